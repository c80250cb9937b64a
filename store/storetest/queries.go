package storetest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pnwbot/store"
)

// Queries counts the queries sent to PostgreSQL through a store made by
// Counted, in all and by sqlc name.
type Queries struct {
	n     atomic.Int64
	mu    sync.Mutex
	named map[string]int64
}

// N is how many queries were sent so far.
func (q *Queries) N() int64 { return q.n.Load() }

// Named is how many times the sqlc query name ("AllianceManagerGet") was
// sent so far.
func (q *Queries) Named(name string) int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.named[name]
}

// TraceQueryStart implements pgx.QueryTracer.
func (q *Queries) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	// sqlc's queries begin "-- name: AllianceManagerGet :one".
	if rest, ok := strings.CutPrefix(data.SQL, "-- name: "); ok {
		name, _, _ := strings.Cut(rest, " ")
		q.mu.Lock()
		if q.named == nil {
			q.named = map[string]int64{}
		}
		q.named[name]++
		q.mu.Unlock()
	}
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (q *Queries) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Counted returns a store on st's database, over a pool of its own whose
// queries are counted, closed when the test ends.
func Counted(t testing.TB, st *store.Store) (*store.Store, *Queries) {
	t.Helper()
	q := &Queries{}
	cfg := st.Pool.Config()
	cfg.ConnConfig.Tracer = q
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("counted pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return store.Wrap(pool), q
}
