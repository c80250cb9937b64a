package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/jobs"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// dms records the notices a runner sends; failFirst fails each user's
// first one, as a Discord outage would.
type dms struct {
	failFirst bool
	sent      chan string
	tried     map[string]bool
}

func (d *dms) DirectMessage(_ context.Context, userID string, msg *bot.Response) error {
	if d.failFirst && !d.tried[userID] {
		d.tried[userID] = true
		return errors.New("discord: 503")
	}
	d.sent <- userID + ": " + msg.Content
	return nil
}

type replica struct {
	runner  *jobs.Runner
	notices *jobs.Notices
	reg     *prometheus.Registry
}

// start runs a runner, a replica's, on st's database.
func start(t *testing.T, st *store.Store, dm jobs.Messenger, passes ...jobs.Pass) replica {
	t.Helper()
	return startTicking(t, st, dm, 0, passes...)
}

// startTicking is start with the runner reading pass periods every tick.
func startTicking(t *testing.T, st *store.Store, dm jobs.Messenger, tick time.Duration, passes ...jobs.Pass) replica {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := jobs.New(jobs.Options{Store: st, Logger: slog.New(slog.DiscardHandler), Registerer: reg, DM: dm, Passes: passes, Tick: tick})
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, r.Stop(ctx))
	})
	notices, err := jobs.NewNotices(st)
	require.NoError(t, err)
	return replica{r, notices, reg}
}

func runs(t *testing.T, replicas []replica, job, outcome string) float64 {
	t.Helper()
	var n float64
	for _, r := range replicas {
		mfs, err := r.reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() != "pnwbot_jobs_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["job"] == job && labels["outcome"] == outcome {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func TestPassRunsOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	ran := make(chan struct{}, 10)
	pass := jobs.Pass{Name: "retention", Every: func() time.Duration { return time.Hour }, Run: func(context.Context) (any, error) {
		ran <- struct{}{}
		return map[string]int{"api_usage_logs": 0}, nil
	}}
	replicas := []replica{start(t, st, nil, pass), start(t, st, nil, pass)}

	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the pass did not run at start")
	}
	require.Eventually(t, func() bool { return runs(t, replicas, "retention", "ok") == 1 }, 10*time.Second, 10*time.Millisecond)
	// However many replicas scheduled it, the period holds one job.
	var jobsInPeriod int
	require.NoError(t, st.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = 'pass' AND args->>'name' = 'retention'`).Scan(&jobsInPeriod))
	require.Equal(t, 1, jobsInPeriod)
	require.Empty(t, ran, "ran once")
	require.Eventually(t, func() bool {
		return testutil.CollectAndCompare(replicas[0].reg, strings.NewReader(`
# HELP pnwbot_jobs Jobs in the queue by state (available, scheduled, running, retryable, completed, discarded, cancelled), all replicas together; river deletes completed ones after a day.
# TYPE pnwbot_jobs gauge
pnwbot_jobs{state="completed"} 1
`), "pnwbot_jobs") == nil
	}, 10*time.Second, 10*time.Millisecond, "the queue's jobs by state")
	require.Equal(t, 1, testutil.CollectAndCount(replicas[0].reg, "pnwbot_job_duration_seconds")+
		testutil.CollectAndCount(replicas[1].reg, "pnwbot_job_duration_seconds"), "one replica timed it")
}

// A job period changed in app_config counts without a restart: the runner
// reads it again every tick.
func TestPassPeriodChangesWithoutRestart(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	var every atomic.Int64
	every.Store(int64(time.Hour))
	ran := make(chan struct{}, 100)
	pass := jobs.Pass{Name: "war_poll", Every: func() time.Duration { return time.Duration(every.Load()) }, Run: func(context.Context) (any, error) {
		ran <- struct{}{}
		return 0, nil
	}}
	startTicking(t, st, nil, 100*time.Millisecond, pass)
	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the pass did not run at start")
	}
	select {
	case <-ran:
		t.Fatal("the pass ran again within its hour")
	case <-time.After(time.Second):
	}
	every.Store(int64(time.Second))
	for range 2 {
		select {
		case <-ran:
		case <-time.After(30 * time.Second):
			t.Fatal("the pass did not follow its new period of a second")
		}
	}
}

func TestNoticeRetriedUntilSent(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	dm := &dms{failFirst: true, sent: make(chan string, 10), tried: map[string]bool{}}
	r := start(t, st, dm)
	require.NoError(t, r.notices.DirectMessage(context.Background(), "42", &bot.Response{Content: "your key was refused"}))
	select {
	case got := <-dm.sent:
		require.Equal(t, "42: your key was refused", got)
	case <-time.After(30 * time.Second):
		t.Fatal("the notice was not sent again after Discord failed")
	}
	require.Eventually(t, func() bool {
		return runs(t, []replica{r}, "notice", "error") == 1 && runs(t, []replica{r}, "notice", "ok") == 1
	}, 10*time.Second, 10*time.Millisecond)
	require.Empty(t, dm.sent, "sent once")
}

// syncBuffer is a log a runner writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A PostgreSQL outage costs a command no wait through a notice, and river's
// flood of errors (each loop fails every second) is one warning.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	srv := storetest.StartPostgres(t)
	st := srv.NewDB(t)
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	r, err := jobs.New(jobs.Options{Store: st, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Registerer: reg,
		DM: &dms{sent: make(chan string, 10)}})
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, r.Stop(ctx))
	})
	notices, err := jobs.NewNotices(st)
	require.NoError(t, err)
	notice := func() error {
		// Discord's window: queueing must end well before it.
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		err := notices.DirectMessage(ctx, "1", &bot.Response{Content: "hello"})
		require.NoError(t, ctx.Err(), "queueing the notice used up the window")
		return err
	}
	require.NoError(t, notice())

	srv.Freeze()
	require.Error(t, notice())
	srv.Thaw()
	srv.Stop()
	require.Error(t, notice())

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for muted(t, reg) < 10 {
		select {
		case <-ctx.Done():
			t.Fatalf("river logged its errors:\n%s", logs)
		case <-tick.C:
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var warnings []string
	for _, l := range lines {
		require.NotContains(t, l, `"level":"ERROR"`)
		if strings.Contains(l, `"level":"WARN"`) {
			warnings = append(warnings, l)
		}
	}
	require.Len(t, warnings, 1, "one warning for the outage: %s", logs)
	srv.Start()
}

// muted is pnwbot_job_queue_log_muted_total in reg.
func muted(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "pnwbot_job_queue_log_muted_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
