package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/semaphore"

	"pnwbot/breaker"
)

// QueryTimeout bounds each query once a pool connection is free for it
// (making or checking that connection included), well inside Discord's 3 s
// window: a database that hangs costs a command a second and a clear
// answer, not the window.
const QueryTimeout = time.Second

// PoolWait bounds a query's wait for a free pool connection. The wait is
// not the database's fault: a burst larger than the pool waits its turn
// (the bot defers the reply when it takes long) and never counts toward
// the breaker. Only a pool held this long (a transaction waiting for a
// second connection, say) fails the query, with ErrUnavailable.
const PoolWait = 10 * time.Second

// ErrUnavailable wraps the error of a query that could not reach PostgreSQL:
// refused, cut off, out of time, or not sent because the database was
// found unavailable (the breaker is open, or WithoutDatabase).
var ErrUnavailable = errors.New("the database is unavailable")

// The breaker opens after breakerFailures queries in a row found the
// database unavailable (two: without Redis, the first command after a hang
// then pays the replay check's and the rate limit's deadlines, 1.5 s, and
// still answers before the bot defers), and lets one query through
// (half-open) breakerOpen later to see whether it is back.
const (
	breakerFailures = 2
	breakerOpen     = 2 * time.Second
)

// guard gives every query its deadline and keeps queries away from a
// database that stopped answering. Queries on the pool take a turn first,
// one per pool connection, so that the deadline and the breaker see the
// database's time, not the queue's.
type guard struct {
	breaker *breaker.Breaker
	turns   *semaphore.Weighted
	waits   waitStats
}

// waitStats count the queries that had to wait for a turn.
type waitStats struct {
	mu       sync.Mutex
	count    int64
	canceled int64
	waited   time.Duration
}

func newGuard(conns int32) *guard {
	return &guard{
		breaker: breaker.New("postgres", breakerFailures, breakerOpen, nil),
		turns:   semaphore.NewWeighted(int64(conns)),
	}
}

// turn waits, up to PoolWait, until a pool connection is free for one
// statement or transaction; release frees it.
func (g *guard) turn(ctx context.Context) (release func(), err error) {
	if g.turns.TryAcquire(1) {
		return func() { g.turns.Release(1) }, nil
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, PoolWait)
	defer cancel()
	err = g.turns.Acquire(wctx, 1)
	g.waits.mu.Lock()
	g.waits.count++
	g.waits.waited += time.Since(start)
	if err != nil {
		g.waits.canceled++
	}
	g.waits.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, fmt.Errorf("%w: no pool connection free within %v", ErrUnavailable, PoolWait)
	}
	return func() { g.turns.Release(1) }, nil
}

// ReportTimeout bounds each query of a report: see ForReport.
const ReportTimeout = 15 * time.Second

type report struct{}

// ForReport gives the queries under ctx ReportTimeout instead of
// QueryTimeout: for reports that read much (usage over many days, the audit
// log, background passes), whose caller has deferred or is no command at
// all. A second bounds a command's reads, not these, and a report running
// past it is not an outage.
func ForReport(ctx context.Context) context.Context {
	return context.WithValue(ctx, report{}, true)
}

func timeoutOf(ctx context.Context) time.Duration {
	if ctx.Value(report{}) != nil {
		return ReportTimeout
	}
	return QueryTimeout
}

type withoutDatabase struct{}

// WithoutDatabase returns a context under which queries fail at once with
// ErrUnavailable: for the rest of a request that found the database
// unavailable, so that it does not wait for it again.
func WithoutDatabase(ctx context.Context) context.Context {
	return context.WithValue(ctx, withoutDatabase{}, true)
}

// foundUnavailable is ErrUnavailable under WithoutDatabase.
func foundUnavailable(ctx context.Context) error {
	if ctx.Value(withoutDatabase{}) != nil {
		return fmt.Errorf("%w: found so earlier in this request", ErrUnavailable)
	}
	return nil
}

// start begins a query, after its turn when pooled (a statement on the
// pool rather than in a transaction, which holds its turn): its context
// with QueryTimeout, and end, which reports the query's error to the
// breaker and returns it, marked with ErrUnavailable when the database did
// not answer.
func (g *guard) start(ctx context.Context, pooled bool) (context.Context, func(error) error, error) {
	if err := foundUnavailable(ctx); err != nil {
		return nil, nil, err
	}
	release := func() {}
	if pooled {
		var err error
		if release, err = g.turn(ctx); err != nil {
			return nil, nil, err
		}
	}
	qctx, end, err := g.breaker.Start(ctx, timeoutOf(ctx))
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return qctx, func(err error) error {
		failed := err != nil && unreachable(err)
		end(failed)
		release()
		if failed {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}, nil
}

// run runs one statement of a transaction under the guard.
func (g *guard) run(ctx context.Context, stmt func(context.Context) error) error {
	qctx, end, err := g.start(ctx, false)
	if err != nil {
		return err
	}
	return end(stmt(qctx))
}

// unreachable reports whether err says the database did not answer, as
// opposed to answering with an error.
func unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// connection_exception; admin_shutdown, crash_shutdown, cannot_connect_now
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// db runs the generated queries on DBTX (the pool when pooled, else a
// transaction) under the guard, and maps pgx.ErrNoRows to ErrNotFound where
// rows are scanned, so no caller has to.
type db struct {
	DBTX
	g      *guard
	pooled bool
}

func (d db) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, end, err := d.g.start(ctx, d.pooled)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := d.DBTX.Exec(ctx, sql, args...)
	return tag, end(err)
}

func (d db) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, end, err := d.g.start(ctx, d.pooled)
	if err != nil {
		return nil, err
	}
	rows, err := d.DBTX.Query(ctx, sql, args...)
	if err != nil {
		return nil, end(err)
	}
	return &guardedRows{Rows: rows, end: end}, nil
}

func (d db) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, end, err := d.g.start(ctx, d.pooled)
	if err != nil {
		return failedRow{err}
	}
	return guardedRow{d.DBTX.QueryRow(ctx, sql, args...), end}
}

func (d db) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	ctx, end, err := d.g.start(ctx, d.pooled)
	if err != nil {
		return 0, err
	}
	n, err := d.DBTX.CopyFrom(ctx, table, columns, src)
	return n, end(err)
}

// guardedRows ends its query when closed.
type guardedRows struct {
	pgx.Rows
	end   func(error) error
	ended bool
}

func (r *guardedRows) Close() {
	r.Rows.Close()
	if !r.ended {
		r.ended = true
		r.end(r.Rows.Err()) //nolint:errcheck // Err returns it
	}
}

func (r *guardedRows) Err() error {
	if err := r.Rows.Err(); err != nil && unreachable(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return r.Rows.Err()
}

// guardedRow ends its query when scanned.
type guardedRow struct {
	pgx.Row
	end func(error) error
}

func (r guardedRow) Scan(dest ...any) error {
	err := r.end(r.Row.Scan(dest...))
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// failedRow is a query the guard did not send.
type failedRow struct{ err error }

func (r failedRow) Scan(...any) error { return r.err }

// BreakerState is the state of the breaker that keeps queries away from a
// database that stopped answering: 0 closed, 1 half-open, 2 open.
func (s *Store) BreakerState() int { return s.guard.breaker.State() }
