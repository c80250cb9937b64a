package pnw_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/store/storetest"
)

// TestCacheBackends runs the same contract against Redis and PostgreSQL.
func TestCacheBackends(t *testing.T) {
	t.Parallel()
	backends := map[string]func(t *testing.T) pnw.Cache{
		"redis": func(t *testing.T) pnw.Cache {
			rdb, prefix := storetest.NewRedis(t)
			return pnw.NewRedisCache(rdb, prefix)
		},
		"postgres": func(t *testing.T) pnw.Cache {
			return pnw.NewPostgresCache(storetest.NewDB(t).Queries)
		},
	}
	for name, newCache := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cache := newCache(t)
			now := time.Now().Truncate(time.Millisecond)
			entry := func(v string) pnw.Entry {
				return pnw.Entry{Data: json.RawMessage(`{"v":"` + v + `"}`), FetchedAt: now, FreshUntil: now.Add(time.Minute)}
			}

			_, ok, err := cache.Get(ctx, "missing")
			require.NoError(t, err)
			require.False(t, ok)

			require.NoError(t, cache.Set(ctx, "a", entry("a"), []string{"nation:1", "alliance:7"}, time.Hour))
			require.NoError(t, cache.Set(ctx, "b", entry("b"), []string{"alliance:7"}, time.Hour))
			require.NoError(t, cache.Set(ctx, "c", entry("c"), []string{"nation:2"}, time.Hour))
			require.NoError(t, cache.Set(ctx, "short", entry("s"), nil, 10*time.Millisecond))

			got, ok, err := cache.Get(ctx, "a")
			require.NoError(t, err)
			require.True(t, ok)
			require.JSONEq(t, `{"v":"a"}`, string(got.Data))
			require.True(t, got.FetchedAt.Equal(now))
			require.True(t, got.FreshUntil.Equal(now.Add(time.Minute)))

			// Overwriting replaces data and tags.
			require.NoError(t, cache.Set(ctx, "c", entry("c2"), []string{"nation:3"}, time.Hour))
			got, _, err = cache.Get(ctx, "c")
			require.NoError(t, err)
			require.JSONEq(t, `{"v":"c2"}`, string(got.Data))

			require.NoError(t, cache.InvalidateTag(ctx, "alliance:7"))
			require.NoError(t, cache.InvalidateTag(ctx, "nation:2"), "c is no longer tagged nation:2")
			for key, want := range map[string]bool{"a": false, "b": false, "c": true} {
				_, ok, err := cache.Get(ctx, key)
				require.NoError(t, err)
				require.Equal(t, want, ok, key)
			}
			require.NoError(t, cache.InvalidateTag(ctx, "nation:404"), "an unknown tag is fine")

			time.Sleep(20 * time.Millisecond)
			_, ok, err = cache.Get(ctx, "short")
			require.NoError(t, err)
			require.False(t, ok, "gone after keep")
		})
	}
}
