package kv_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// discordWindow is how long Discord waits for an interaction's first
// answer: whatever Redis does, a check must end well within it.
const discordWindow = 3 * time.Second

type failoverBundle struct {
	redis    *storetest.Server
	rdb      *redis.Client
	st       *store.Store
	reg      *prometheus.Registry
	limiter  bot.Limiter
	cache    pnw.Cache
	replays  bot.Admitter
	failover *kv.Failover
}

// setupFailover wires the limiter, cache and interaction log as pnwbot run
// does, on a Redis of the test's own and a fresh database.
func setupFailover(t *testing.T, rate bot.Rate) *failoverBundle {
	t.Helper()
	b := &failoverBundle{redis: storetest.StartRedis(t), st: storetest.NewDB(t), reg: prometheus.NewRegistry()}
	opts, err := redis.ParseURL(b.redis.RedisURL())
	require.NoError(t, err)
	opts.ContextTimeoutEnabled = true
	b.rdb = redis.NewClient(opts)
	t.Cleanup(func() { b.rdb.Close() })
	b.failover, err = kv.NewFailover(b.reg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	b.limiter = b.failover.Limiter(kv.NewRedisLimiter(b.rdb, "", bot.FixedRate(rate)), kv.NewPostgresLimiter(b.st, bot.FixedRate(rate)), bot.NewMemoryLimiter(bot.FixedRate(rate)))
	b.cache = b.failover.Cache(kv.NewRedisCache(b.rdb, "cache:"), kv.NewPostgresCache(b.st))
	b.replays = b.failover.Admitter(kv.NewRedisAdmitter(kv.NewRedisInteractionLog(b.rdb, ""), kv.NewRedisLimiter(b.rdb, "", bot.FixedRate(rate))),
		kv.NewPostgresInteractionLog(b.st), kv.NewPostgresLimiter(b.st, bot.FixedRate(rate)), bot.NewMemoryLimiter(bot.FixedRate(rate)))
	require.NoError(t, b.st.Pool.Ping(t.Context())) // a first connection is not what is measured
	return b
}

// window is a context ending with Discord's window.
func window(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), discordWindow)
	t.Cleanup(cancel)
	return ctx
}

// allowed makes n checks for key, each within Discord's window, and counts
// those admitted.
func (b *failoverBundle) allowed(t *testing.T, key string, n int) int {
	t.Helper()
	admitted := 0
	for range n {
		ok, _, err := b.limiter.Allow(window(t), key)
		require.NoError(t, err)
		if ok {
			admitted++
		}
	}
	return admitted
}

// waitRedisInUse makes checks for a fresh key until Redis holds it again:
// the breaker's half-open probe found Redis back.
func (b *failoverBundle) waitRedisInUse(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		key := "probe:" + time.Now().Format(time.RFC3339Nano)
		_, _, err := b.limiter.Allow(ctx, key)
		require.NoError(t, err)
		if n, _ := b.rdb.Exists(ctx, "ratelimit:"+key).Result(); n == 1 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Redis not in use again after %d checks", i+1)
		case <-tick.C:
		}
	}
}

func TestFailoverRedisKilled(t *testing.T) {
	t.Parallel()
	rate := bot.Rate{Requests: 30, Window: time.Minute}
	b := setupFailover(t, rate)
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	entry := pnw.Entry{Data: json.RawMessage(`{"v":1}`), FetchedAt: now, FreshUntil: now.Add(time.Minute)}
	require.NoError(t, b.cache.Set(ctx, "before", entry, []string{"nation:1"}, time.Hour))

	b.redis.Kill()
	// The limit holds: 30 of 40.
	require.Equal(t, rate.Requests, b.allowed(t, "user:1", 40))
	require.Equal(t, 2.0, gauge(t, b.reg, "pnwbot_redis_breaker_state"), "breaker open")
	require.Equal(t, 40.0, counter(t, b.reg, "pnwbot_store_fallbacks_total", "rate_limit", "postgres"))

	// The cache and the interaction log go on in PostgreSQL.
	_, ok, err := b.cache.Get(window(t), "before")
	require.NoError(t, err)
	require.False(t, ok, "Redis's entries are out of reach: a miss")
	require.NoError(t, b.cache.Set(window(t), "during", entry, nil, time.Hour))
	got, ok, err := b.cache.Get(window(t), "during")
	require.NoError(t, err)
	require.True(t, ok)
	require.JSONEq(t, `{"v":1}`, string(got.Data))
	for _, want := range []bool{true, false} {
		first, err := b.replays.Claim(window(t), "interaction:1", time.Minute)
		require.NoError(t, err)
		require.Equal(t, want, first)
	}
	// Claim and limit together: the user of the limit above is refused, a
	// replay is refused and not counted.
	claimed, v, err := b.replays.Admit(window(t), "interaction:2", time.Minute, "user:1")
	require.NoError(t, err)
	require.True(t, claimed)
	require.False(t, v.OK, "user:1 is at its limit")
	require.NoError(t, v.Err)
	for _, want := range []bool{true, false} {
		claimed, v, err = b.replays.Admit(window(t), "interaction:3", time.Minute, "user:2")
		require.NoError(t, err)
		require.Equal(t, want, claimed)
		require.Equal(t, want, v.OK)
	}
	require.Equal(t, rate.Requests-1, b.allowed(t, "user:2", rate.Requests), "user:2 was counted once")

	// Redis back: the half-open probe finds it, and it is in use again.
	b.redis.Start()
	b.waitRedisInUse(t)
	require.Equal(t, 0.0, gauge(t, b.reg, "pnwbot_redis_breaker_state"), "breaker closed")
}

func TestFailoverRedisFrozen(t *testing.T) {
	t.Parallel()
	rate := bot.Rate{Requests: 30, Window: time.Minute}
	b := setupFailover(t, rate)

	b.redis.Freeze()
	// Each check ends within Discord's window, and the limit holds.
	require.Equal(t, rate.Requests, b.allowed(t, "user:1", 40))
	require.Equal(t, 2.0, gauge(t, b.reg, "pnwbot_redis_breaker_state"), "breaker open")
	_, _, err := b.cache.Get(window(t), "anything")
	require.NoError(t, err)

	b.redis.Thaw()
	b.waitRedisInUse(t)
}

// Neither Redis nor PostgreSQL: the limit still holds, in memory, and says
// so in its metric.
func TestFailoverLimiterLastResort(t *testing.T) {
	t.Parallel()
	rate := bot.Rate{Requests: 30, Window: time.Minute}
	b := setupFailover(t, rate)
	b.redis.Kill()
	b.st.Pool.Close()
	require.Equal(t, rate.Requests, b.allowed(t, "user:1", 40))
	require.Equal(t, 40.0, counter(t, b.reg, "pnwbot_store_fallbacks_total", "rate_limit", "memory"))
}

// gauge reads a gauge without labels from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return metric(t, reg, name).GetGauge().GetValue()
}

// counter reads a counter of pnwbot_store_fallbacks_total by use and store.
func counter(t *testing.T, reg *prometheus.Registry, name, use, store string) float64 {
	t.Helper()
	return metric(t, reg, name, "use", use, "store", store).GetCounter().GetValue()
}

// metric finds the metric name with the label pairs given in reg.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) *dto.Metric {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				for _, l := range m.GetLabel() {
					if l.GetName() == labels[i] && l.GetValue() != labels[i+1] {
						continue metrics
					}
				}
			}
			return m
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return nil
}
