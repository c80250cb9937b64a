package adapter_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/store/adapter"
	"pnwbot/store/storetest"
)

// The limiter's behaviour is bot's TestLimiters, beside the Redis one; here,
// its cost: one round trip per check, admitted or denied.
func TestLimiterOneRoundTrip(t *testing.T) {
	t.Parallel()
	counted, queries := storetest.Counted(t, storetest.NewDB(t))
	l := adapter.NewLimiter(counted, bot.FixedRate(bot.Rate{Requests: 1, Window: time.Minute}))

	for _, want := range []bool{true, false} {
		before := queries.N()
		ok, _, err := l.Allow(t.Context(), "user:1")
		require.NoError(t, err)
		require.Equal(t, want, ok)
		require.EqualValues(t, 1, queries.N()-before)
	}
}
