package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
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
	runner *jobs.Runner
	reg    *prometheus.Registry
}

// start runs a runner, a replica's, on st's database.
func start(t *testing.T, st *store.Store, dm jobs.Messenger, passes ...jobs.Pass) replica {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := jobs.New(jobs.Options{Pool: st.Pool, Logger: slog.New(slog.DiscardHandler), Registerer: reg, DM: dm, Passes: passes})
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, r.Stop(ctx))
	})
	return replica{r, reg}
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
	pass := jobs.Pass{Name: "retention", Every: time.Hour, Run: func(context.Context) (any, error) {
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

func TestNoticeRetriedUntilSent(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	dm := &dms{failFirst: true, sent: make(chan string, 10), tried: map[string]bool{}}
	r := start(t, st, dm)
	require.NoError(t, r.runner.DirectMessage(context.Background(), "42", &bot.Response{Content: "your key was refused"}))
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
