package pnw

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// UsageRow is one api_usage_logs row: a call of the game's API, answered
// upstream or from the cache.
type UsageRow struct {
	UserID         *int64 // the caller's users.id, when known
	AllianceID     *int64 // the caller's alliances.id, when known
	Endpoint       string
	QueryHash      string
	StatusCode     int32
	ResponseTimeMs int32
	CacheHit       bool
	CreatedAt      time.Time
}

// UsageSink stores the usage log (store/kv.Usage in production).
type UsageSink interface {
	// InsertUsage stores rows in one batch, all or none. Its error wraps
	// ErrUnknownCaller when a row names a user or alliance that no longer
	// exists.
	InsertUsage(ctx context.Context, rows []UsageRow) error
}

// ErrUnknownCaller says a usage row names a user or alliance deleted since
// the call.
var ErrUnknownCaller = errors.New("usage row names a deleted user or alliance")

// ErrRejectedRow says the store refuses a row's data: writing it again
// cannot help.
var ErrRejectedRow = errors.New("usage row refused by the store")

const (
	usageBuffer   = 4096
	usageBatch    = 256
	usageInterval = time.Second
	usageTimeout  = 10 * time.Second
	// A batch that fails for another reason than its rows (PostgreSQL
	// restarting, a network blip) is written up to usageAttempts times,
	// waiting usageRetryWait, then twice that, in between.
	usageAttempts  = 3
	usageRetryWait = time.Second
)

// usageWriter writes api_usage_logs rows in batches off the request path.
// A full buffer drops rows (counted) rather than slow a command down.
type usageWriter struct {
	db       UsageSink
	rows     chan UsageRow
	done     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
	dropped  prometheus.Counter
	log      *slog.Logger
}

func newUsageWriter(db UsageSink, dropped prometheus.Counter, log *slog.Logger) *usageWriter {
	w := &usageWriter{
		db:      db,
		rows:    make(chan UsageRow, usageBuffer),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		dropped: dropped,
		log:     log,
	}
	go w.run()
	return w
}

// record queues one row; it never blocks. A nil writer records nothing.
func (w *usageWriter) record(ctx context.Context, op, queryHash string, status int, elapsed time.Duration, cacheHit bool) {
	if w == nil {
		return
	}
	row := UsageRow{
		Endpoint:       op,
		QueryHash:      queryHash,
		StatusCode:     int32(min(max(status, 0), 599)),
		ResponseTimeMs: int32(min(elapsed.Milliseconds(), 1<<31-1)),
		CacheHit:       cacheHit,
		CreatedAt:      time.Now(),
	}
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		if c.UserID != 0 {
			row.UserID = &c.UserID
		}
		if c.AllianceID != 0 {
			row.AllianceID = &c.AllianceID
		}
	}
	select {
	case <-w.done:
		w.dropped.Inc()
		return
	default:
	}
	select {
	case w.rows <- row:
	default:
		w.dropped.Inc()
	}
}

func (w *usageWriter) run() {
	defer close(w.stopped)
	ticker := time.NewTicker(usageInterval)
	defer ticker.Stop()
	batch := make([]UsageRow, 0, usageBatch)
	flush := func() {
		if len(batch) > 0 {
			w.write(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case row := <-w.rows:
			if batch = append(batch, row); len(batch) >= usageBatch {
				flush()
			}
		case <-ticker.C:
			flush()
		case <-w.done:
			for {
				select {
				case row := <-w.rows:
					if batch = append(batch, row); len(batch) >= usageBatch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// write stores a batch, retrying a failure that is not the rows' fault; only
// rows that still could not be written are counted as dropped.
func (w *usageWriter) write(batch []UsageRow) {
	wait := usageRetryWait
	for attempt := 1; ; attempt++ {
		err := w.insert(batch)
		switch {
		case err == nil:
			return
		case errors.Is(err, ErrUnknownCaller), errors.Is(err, ErrRejectedRow):
			w.writeEach(batch)
			return
		case attempt == usageAttempts:
			w.dropped.Add(float64(len(batch)))
			w.log.Warn("pnw usage log write failed, rows dropped", "rows", len(batch), "attempts", attempt, "err", err)
			return
		}
		w.log.Warn("pnw usage log write failed, retrying", "rows", len(batch), "attempt", attempt, "err", err)
		time.Sleep(wait)
		wait *= 2
	}
}

// writeEach stores, one at a time, the rows of a batch that one of them
// spoiled: a row naming a user or alliance deleted since the call is kept
// without that identity, a row the store refuses is dropped.
func (w *usageWriter) writeEach(batch []UsageRow) {
	for _, row := range batch {
		err := w.insert([]UsageRow{row})
		if errors.Is(err, ErrUnknownCaller) {
			row.UserID, row.AllianceID = nil, nil
			err = w.insert([]UsageRow{row})
		}
		if err != nil {
			w.dropped.Inc()
			w.log.Warn("pnw usage log write failed, row dropped", "err", err)
		}
	}
}

func (w *usageWriter) insert(rows []UsageRow) error {
	ctx, cancel := context.WithTimeout(context.Background(), usageTimeout)
	defer cancel()
	return w.db.InsertUsage(ctx, rows)
}

// close flushes what is queued and stops the writer.
func (w *usageWriter) close(ctx context.Context) error {
	w.stopOnce.Do(func() { close(w.done) })
	select {
	case <-w.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
