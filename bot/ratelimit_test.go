package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/store/adapter"
	"pnwbot/store/storetest"
)

func TestLimiters(t *testing.T) {
	t.Parallel()
	rate := bot.Rate{Requests: 2, Window: 10 * time.Second}
	client, prefix := storetest.NewRedis(t)
	for name, l := range map[string]bot.Limiter{
		"Redis":      bot.NewRedisLimiter(client, prefix, rate),
		"PostgreSQL": adapter.NewLimiter(storetest.NewDB(t), rate),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			for range rate.Requests {
				ok, _, err := l.Allow(ctx, "user:1")
				require.NoError(t, err)
				require.True(t, ok)
			}
			ok, retry, err := l.Allow(ctx, "user:1")
			require.NoError(t, err)
			require.False(t, ok)
			require.Greater(t, retry, time.Duration(0))
			require.LessOrEqual(t, retry, rate.Window)
			ok, _, err = l.Allow(ctx, "user:2")
			require.NoError(t, err)
			require.True(t, ok)
		})
	}
}
