package kv_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// TestCacheBackends runs the same contract against Redis and PostgreSQL.
func TestCacheBackends(t *testing.T) {
	t.Parallel()
	backends := map[string]func(t *testing.T) pnw.Cache{
		"redis": func(t *testing.T) pnw.Cache {
			rdb, prefix := storetest.NewRedis(t)
			return kv.NewRedisCache(rdb, prefix)
		},
		"postgres": func(t *testing.T) pnw.Cache {
			return kv.NewPostgresCache(storetest.NewDB(t))
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

			// A not-found answer.
			require.NoError(t, cache.Set(ctx, "gone", pnw.Entry{NotFound: "no such nation", FetchedAt: now, FreshUntil: now.Add(time.Minute)}, nil, time.Hour))
			got, ok, err = cache.Get(ctx, "gone")
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, "no such nation", got.NotFound)

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

// TestRedisCacheHonoursDeadlines: with ContextTimeoutEnabled, as production
// builds its client, a Redis that never answers costs a cache call no more
// than its deadline.
func TestRedisCacheHonoursDeadlines(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() { // reads, never answers, until the client hangs up
				defer conn.Close()
				_, _ = io.Copy(io.Discard, conn)
			}()
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: l.Addr().String(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	cache := kv.NewRedisCache(rdb, "hung:")

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = cache.Get(ctx, "k")
	require.Error(t, err)
	require.Less(t, time.Since(start), time.Second, "go-redis would wait out its own socket timeouts")
}
