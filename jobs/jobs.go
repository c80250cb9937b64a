// Package jobs runs pnwbot's background work on river, a job queue in
// PostgreSQL: periodic passes (retention, key re-verification) that one
// replica runs once each period, and durable notices no command waits on.
// Each worker only calls what it is handed: the work itself lives beside
// the commands and the store.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"pnwbot/bot"
	"pnwbot/store"
)

// Pass is periodic work: one replica runs it once a period.
type Pass struct {
	Name string
	// Every returns the period. It is read again at each schedule tick, so a
	// changed setting counts within a tick, without a restart.
	Every func() time.Duration
	// Run does the work and returns what it did, for the log.
	Run func(ctx context.Context) (any, error)
}

// Messenger sends direct messages; the bot implements it.
type Messenger interface {
	DirectMessage(ctx context.Context, userID string, msg *bot.Response) error
}

// PoolSize is the size of river's own pool: its listener, fetches,
// completions and notice inserts (the passes' work uses the store's pool).
const PoolSize = 4

// Options are what New needs.
type Options struct {
	// Store is river's own (a pool of PoolSize): its listener holds a
	// connection, and jobs never take the connections interactions need.
	Store      *store.Store
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// DM delivers notices.
	DM     Messenger
	Passes []Pass
	// Tick is how often each pass's period is read again (default a minute:
	// a changed job period takes effect within a minute).
	Tick time.Duration
}

// Runner is the river client with pnwbot's workers.
type Runner struct {
	client  *river.Client[store.Tx]
	logger  *slog.Logger
	metrics *metrics
}

// passArgs names the pass a job runs: uniqueness by args keeps one job of
// each pass per period, whichever replica inserts it.
type passArgs struct {
	Name string `json:"name"`
}

func (passArgs) Kind() string { return "pass" }

// noticeArgs is a direct message to send.
type noticeArgs struct {
	UserID  string `json:"user_id"`
	Content string `json:"content"`
}

func (noticeArgs) Kind() string { return "notice" }

// Attempts before a job is given up: a pass runs again next period anyway;
// a notice keeps trying for about a day (river's backoff is attempts^4 s).
const (
	passAttempts   = 3
	noticeAttempts = 12
)

// jobTimeout bounds one job: the key check asks the game about every key.
const jobTimeout = 30 * time.Minute

// insertTimeout bounds queueing a notice, as long as one query may take: a
// command never waits on a stuck database through it.
const insertTimeout = store.QueryTimeout

// quietFor is how long river must have logged no warning or error before
// the next one is logged: during a PostgreSQL outage each of its loops
// fails every second or so, and one warning says it.
const quietFor = time.Minute

// schedule asks for a pass at least once a tick; uniqueness by the period
// read at insertion keeps one job a period, however often it is asked.
type schedule struct {
	every func() time.Duration
	tick  time.Duration
}

func (s schedule) Next(t time.Time) time.Time {
	return t.Add(min(s.every(), s.tick))
}

// New builds a runner; Start runs it.
func New(o Options) (*Runner, error) {
	if o.Tick <= 0 {
		o.Tick = time.Minute
	}
	r := &Runner{logger: o.Logger, metrics: newMetrics(o.Registerer)}
	o.Registerer.MustRegister(stateCollector{o.Store})
	passes := make(map[string]Pass, len(o.Passes))
	var periodic []*river.PeriodicJob
	for _, p := range o.Passes {
		passes[p.Name] = p
		periodic = append(periodic, river.NewPeriodicJob(schedule{every: p.Every, tick: o.Tick},
			func() (river.JobArgs, *river.InsertOpts) {
				return passArgs{Name: p.Name}, &river.InsertOpts{MaxAttempts: passAttempts,
					UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: p.Every()}}
			},
			// Each new leader schedules from its own start, so without this
			// a pass longer than the replicas' uptime would never run;
			// uniqueness keeps it once per period.
			&river.PeriodicJobOpts{ID: p.Name, RunOnStart: true}))
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[passArgs]) error {
		p, ok := passes[job.Args.Name]
		if !ok {
			return river.JobCancel(fmt.Errorf("no pass named %q in this version", job.Args.Name))
		}
		return r.observe(job.Args.Name, func() error {
			did, err := p.Run(store.ForReport(ctx))
			if err == nil {
				r.logger.InfoContext(ctx, "pass done", "pass", p.Name, "did", did)
			}
			return err
		})
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[noticeArgs]) error {
		return r.observe("notice", func() error {
			return o.DM.DirectMessage(ctx, job.Args.UserID, &bot.Response{Content: job.Args.Content})
		})
	}))
	client, err := river.NewClient(riverpgxv5.New(o.Store.Pool), &river.Config{
		Logger:       slog.New(&quietHandler{Handler: o.Logger.Handler(), state: &quietState{muted: r.metrics.muted}}),
		JobTimeout:   jobTimeout,
		PeriodicJobs: periodic,
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:      workers,
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	r.client = client
	return r, nil
}

// Start runs the workers and, on the replica elected leader, the schedule.
func (r *Runner) Start(ctx context.Context) error { return r.client.Start(ctx) }

// Stop waits for the jobs in flight until ctx ends, then cancels them:
// river works a cancelled job again later.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return r.client.StopAndCancel(stopCtx)
	}
	return err
}

// Notices queues the direct messages no command waits on (a revoked key's
// notice) as jobs, which a Runner sends: made before the commands that
// queue them, while the Runner, whose passes call those commands' work,
// comes after them.
type Notices struct {
	client *river.Client[store.Tx]
}

// NewNotices returns a queue of notices on st, which can be river's own.
func NewNotices(st *store.Store) (*Notices, error) {
	client, err := river.NewClient(riverpgxv5.New(st.Pool), &river.Config{}) // insert only
	if err != nil {
		return nil, fmt.Errorf("notice queue: %w", err)
	}
	return &Notices{client: client}, nil
}

// DirectMessage queues msg's text as a notice to userID: sent soon by
// whichever replica, retried when Discord fails. Only the text is kept.
func (n *Notices) DirectMessage(ctx context.Context, userID string, msg *bot.Response) error {
	if msg.Content == "" {
		return errors.New("a notice needs text")
	}
	ctx, cancel := context.WithTimeout(ctx, insertTimeout)
	defer cancel()
	_, err := n.client.Insert(ctx, noticeArgs{UserID: userID, Content: msg.Content}, &river.InsertOpts{MaxAttempts: noticeAttempts})
	if err != nil {
		return fmt.Errorf("queue notice: %w", err)
	}
	return nil
}

// observe runs one job's work and counts it.
func (r *Runner) observe(job string, work func() error) error {
	start := time.Now()
	err := work()
	r.metrics.duration.WithLabelValues(job).Observe(time.Since(start).Seconds())
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	r.metrics.runs.WithLabelValues(job, outcome).Inc()
	return err
}

// quietHandler logs river's records, but of its warnings and errors only
// the first after quietFor without one, as a warning: the rest are counted.
type quietHandler struct {
	slog.Handler
	state *quietState
}

type quietState struct {
	mu    sync.Mutex
	last  time.Time
	muted prometheus.Counter
}

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.Handler.Handle(ctx, r)
	}
	s := h.state
	s.mu.Lock()
	quiet := r.Time.Sub(s.last) >= quietFor
	s.last = r.Time
	s.mu.Unlock()
	if !quiet {
		s.muted.Inc()
		return nil
	}
	w := slog.NewRecord(r.Time, slog.LevelWarn, "job queue: "+r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		w.AddAttrs(a)
		return true
	})
	w.AddAttrs(slog.String("repeats", "not logged until the job queue has been quiet for a minute; counted in pnwbot_job_queue_log_muted_total"))
	return h.Handler.Handle(ctx, w)
}

func (h *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithAttrs(attrs), state: h.state}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithGroup(name), state: h.state}
}

type metrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	muted    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pnwbot_jobs_total", Help: "Background jobs this replica worked, by job (a pass's name, or notice) and outcome (ok, error).",
		}, []string{"job", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pnwbot_job_duration_seconds", Help: "How long each background job took, by job.",
			Buckets: []float64{.01, .05, .25, 1, 5, 30, 120, 600, 1800},
		}, []string{"job"}),
		muted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pnwbot_job_queue_log_muted_total", Help: "Warnings and errors of the job queue (river) not logged: each came within a minute of another (a PostgreSQL outage makes a flood of them).",
		}),
	}
	reg.MustRegister(m.runs, m.duration, m.muted)
	return m
}

// stateCollector counts the queue's jobs by state at each scrape: the
// same on every replica, since the queue is shared.
type stateCollector struct{ st *store.Store }

var stateDesc = prometheus.NewDesc("pnwbot_jobs", "Jobs in the queue by state (available, scheduled, running, retryable, completed, discarded, cancelled), all replicas together; river deletes completed ones after a day.", []string{"state"}, nil)

func (stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- stateDesc }

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	states, err := c.st.JobStates(context.Background())
	if err != nil {
		return // the database's own metrics say why
	}
	for state, n := range states {
		ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, float64(n), state)
	}
}
