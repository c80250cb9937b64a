package pnw_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
)

// TestTTLOption: the TTL in force is read at each store, so a changed
// setting counts from the next fetch on, kind by kind.
func TestTTLOption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var nationTTL atomic.Int64
	nationTTL.Store(int64(time.Hour))
	c, b := setup(t, func(o *pnw.Options, _ *testBundle) {
		o.TTL = func(_ context.Context, kind string) time.Duration {
			if kind == "nation" {
				return time.Duration(nationTTL.Load())
			}
			return pnw.DefaultTTL
		}
	})
	_, err := c.Nation(ctx, memberID)
	require.NoError(t, err)
	_, err = c.Nation(ctx, memberID)
	require.NoError(t, err)
	require.Equal(t, 1, b.fake.Requests(), "fresh for an hour")

	require.NoError(t, c.InvalidateTag(ctx, pnw.NationTag(memberID)))
	nationTTL.Store(0) // an admin sets the TTL to 0: never fresh
	for range 2 {
		_, err = c.Nation(ctx, memberID)
		require.NoError(t, err)
	}
	require.Equal(t, 3, b.fake.Requests(), "every lookup goes to the game")
}
