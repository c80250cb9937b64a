package storetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/store/storetest"
)

// The private servers do what their methods say: a killed or stopped one
// refuses connections, a frozen one accepts them and never answers, and
// each comes back.
func TestServers(t *testing.T) {
	t.Parallel()
	t.Run("Redis", func(t *testing.T) {
		t.Parallel()
		s := storetest.StartRedis(t)
		opts, err := redis.ParseURL(s.RedisURL())
		require.NoError(t, err)
		opts.ContextTimeoutEnabled = true
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		ping := func() error {
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			return rdb.Ping(ctx).Err()
		}
		require.NoError(t, ping())
		s.Freeze()
		require.ErrorIs(t, ping(), context.DeadlineExceeded)
		s.Thaw()
		require.NoError(t, ping())
		s.Kill()
		require.Error(t, ping())
		s.Start()
		require.NoError(t, ping())
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		t.Parallel()
		s := storetest.StartPostgres(t)
		st := s.NewDB(t)
		var n int
		require.NoError(t, st.Pool.QueryRow(t.Context(), "SELECT count(*) FROM users").Scan(&n))
		ping := func() error {
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			conn, err := pgx.Connect(ctx, s.URL())
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			return conn.Ping(ctx)
		}
		require.NoError(t, ping())
		s.Freeze()
		require.ErrorIs(t, ping(), context.DeadlineExceeded)
		s.Thaw()
		require.NoError(t, ping())
		s.Stop()
		require.ErrorContains(t, ping(), "connection refused")
		s.Start()
		require.NoError(t, ping())
	})
}
