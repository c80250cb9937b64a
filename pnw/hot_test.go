package pnw_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/store/kv"
)

// countingCache counts the reads of the cache under it.
type countingCache struct {
	pnw.Cache
	gets atomic.Int64
}

func (c *countingCache) Get(ctx context.Context, key string) (pnw.Entry, bool, error) {
	c.gets.Add(1)
	return c.Cache.Get(ctx, key)
}

// TestHotLayer: with HotFor, public data read or fetched once is served
// from the process's memory, without a cache read, until it expires or
// this process invalidates it; another replica's copy outlives an
// invalidation it did not see (the documented bound); private data and
// data past its TTL are never kept.
func TestHotLayer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var shared, other *countingCache
	var nationTTL atomic.Int64
	nationTTL.Store(int64(time.Hour))
	ttl := func(_ context.Context, kind string) time.Duration {
		if kind == "nation" {
			return time.Duration(nationTTL.Load())
		}
		return pnw.DefaultTTL
	}
	c, b := setup(t, func(o *pnw.Options, _ *testBundle) {
		shared = &countingCache{Cache: o.Cache}
		o.Cache, o.HotFor, o.TTL = shared, time.Hour, ttl
	})
	// A second replica on the same Redis.
	other = &countingCache{Cache: kv.NewRedisCache(b.rdb, b.prefix)}
	replica, err := pnw.New(pnw.Options{URL: b.fake.URL, APIKey: botKey, Cache: other, HotFor: time.Hour, TTL: ttl})
	require.NoError(t, err)

	first, err := c.Nation(ctx, officerID)
	require.NoError(t, err)
	require.Equal(t, int64(1), shared.gets.Load(), "a miss reads the cache once")
	for range 3 {
		again, err := c.Nation(ctx, officerID)
		require.NoError(t, err)
		require.Equal(t, first, again)
	}
	require.Equal(t, int64(1), shared.gets.Load(), "then the hot layer answers")
	require.Equal(t, 1, b.fake.Requests())

	for range 2 {
		r, err := replica.Nation(ctx, officerID)
		require.NoError(t, err)
		require.Equal(t, first.Data, r.Data)
	}
	require.Equal(t, int64(1), other.gets.Load(), "the replica read the shared cache once")
	require.Equal(t, 1, b.fake.Requests())

	require.NoError(t, c.InvalidateTag(ctx, pnw.NationTag(officerID)))
	_, err = c.Nation(ctx, officerID)
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.Requests(), "an invalidation empties this process's layer")
	_, err = replica.Nation(ctx, officerID)
	require.NoError(t, err)
	require.Equal(t, int64(1), other.gets.Load(), "the replica serves its copy until HotFor")

	// Private data (a key's own view) is never kept.
	for range 2 {
		_, err = c.AllianceBank(ctx, officerKey, allianceID)
		require.NoError(t, err)
	}
	gets := shared.gets.Load()
	_, err = c.AllianceBank(ctx, officerKey, allianceID)
	require.NoError(t, err)
	require.Equal(t, gets+1, shared.gets.Load(), "bank data is read from the cache each time")

	// Nor past its TTL: with a TTL of 0, every lookup goes to the game.
	nationTTL.Store(0)
	require.NoError(t, c.InvalidateTag(ctx, pnw.NationTag(memberID)))
	requests := b.fake.Requests()
	for range 2 {
		_, err = c.Nation(ctx, memberID)
		require.NoError(t, err)
	}
	require.Equal(t, requests+2, b.fake.Requests())
}
