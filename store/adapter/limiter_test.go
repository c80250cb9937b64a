package adapter_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/store"
	"pnwbot/store/adapter"
	"pnwbot/store/storetest"
)

// The limiter's behaviour is bot's TestLimiters, beside the Redis one; here,
// its cost: one round trip per check, admitted or denied.
func TestLimiterOneRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := storetest.NewDB(t).Pool.Config()
	var queries queryCounter
	cfg.ConnConfig.Tracer = &queries
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	l := adapter.NewLimiter(store.Wrap(pool), bot.FixedRate(bot.Rate{Requests: 1, Window: time.Minute}))

	for _, want := range []bool{true, false} {
		before := queries.n.Load()
		ok, _, err := l.Allow(t.Context(), "user:1")
		require.NoError(t, err)
		require.Equal(t, want, ok)
		require.EqualValues(t, 1, queries.n.Load()-before)
	}
}

// queryCounter counts the queries sent to PostgreSQL.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
