package kv

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"pnwbot/bot"
	"pnwbot/breaker"
	"pnwbot/pnw"
)

// Deadlines of one Redis call: a Redis that does not answer in time costs
// a fallback, not a slow command. They are long enough that a replica
// whose cores are saturated, and so reads Redis's answer late, is not taken
// for a Redis outage: at 50 ms, 16 clients on 2 cores opened the breaker
// and sent every rate limit and replay claim to PostgreSQL, which costs
// several times more and made the overload worse.
const (
	redisReadTimeout  = 250 * time.Millisecond // limiter checks, cache reads, interaction ids
	redisWriteTimeout = 500 * time.Millisecond // cache writes and invalidations
)

// The breaker opens after breakerFailures Redis calls in a row failed, and
// lets one call through (half-open) breakerOpen later to see whether Redis
// is back.
const (
	breakerFailures = 3
	breakerOpen     = 2 * time.Second
)

// Failover sends the rate limiter, the game cache and the interaction log
// to Redis while it answers, and to PostgreSQL while it does not: a Redis
// outage costs speed, not limits or correctness. A circuit breaker keeps a
// dead Redis from being tried on every call. The rate limiter's last resort,
// when PostgreSQL fails too, is this process's memory.
type Failover struct {
	breaker   *breaker.Breaker
	fallbacks *prometheus.CounterVec
	logger    *slog.Logger
}

// NewFailover registers the breaker's state and the fallback counts on reg.
func NewFailover(reg prometheus.Registerer, logger *slog.Logger) (*Failover, error) {
	f := &Failover{
		logger: logger,
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pnwbot_store_fallbacks_total",
			Help: "Calls answered by a fallback store because the preferred one failed or its breaker was open, by use (rate_limit, cache, interaction_ids) and store (postgres, memory).",
		}, []string{"use", "store"}),
	}
	f.breaker = breaker.New("redis", breakerFailures, breakerOpen, func(from, to gobreaker.State) {
		switch to {
		case gobreaker.StateOpen:
			logger.Warn("Redis is not answering: the cache, rate limits and interaction ids use PostgreSQL", "breaker", to.String(), "was", from.String())
		case gobreaker.StateClosed:
			logger.Info("Redis answers again: the cache, rate limits and interaction ids are back on Redis", "breaker", to.String())
		}
	})
	state := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pnwbot_redis_breaker_state",
		Help: "The Redis circuit breaker: 0 closed (Redis in use), 1 half-open (one call tries Redis), 2 open (PostgreSQL in use). Stays 0 without REDIS_URL.",
	}, func() float64 { return float64(f.breaker.State()) })
	for _, c := range []prometheus.Collector{f.fallbacks, state} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("failover metrics: %w", err)
		}
	}
	return f, nil
}

// redisFirst runs onRedis within timeout unless the breaker is open, and
// onPostgres when Redis was skipped or failed.
func redisFirst[T any](ctx context.Context, f *Failover, use string, timeout time.Duration,
	onRedis, onPostgres func(context.Context) (T, error)) (T, error) {
	if rctx, end, err := f.breaker.Start(ctx, timeout); err == nil {
		v, err := onRedis(rctx)
		end(err != nil)
		if err == nil || ctx.Err() != nil {
			return v, err
		}
		f.logger.DebugContext(ctx, "Redis call failed, using PostgreSQL", "use", use, "error", err)
	}
	f.fallbacks.WithLabelValues(use, "postgres").Inc()
	return onPostgres(ctx)
}

// Limiter returns a limiter that asks redis (nil without Redis), then pg,
// then, when neither answers, memory: the limit then holds per process,
// which is logged and counted.
func (f *Failover) Limiter(redis, pg bot.Limiter, memory *bot.MemoryLimiter) bot.Limiter {
	return &failoverLimiter{f: f, redis: redis, pg: pg, memory: memory}
}

type failoverLimiter struct {
	f         *Failover
	redis, pg bot.Limiter
	memory    *bot.MemoryLimiter
}

type allowed struct {
	ok    bool
	retry time.Duration
}

func (l *failoverLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	if l.redis == nil {
		return l.withoutRedis(ctx, key)
	}
	a, err := redisFirst(ctx, l.f, "rate_limit", redisReadTimeout, func(ctx context.Context) (allowed, error) {
		ok, retry, err := l.redis.Allow(ctx, key)
		return allowed{ok, retry}, err
	}, func(ctx context.Context) (allowed, error) {
		ok, retry, err := l.withoutRedis(ctx, key)
		return allowed{ok, retry}, err
	})
	return a.ok, a.retry, err
}

// withoutRedis asks PostgreSQL, or memory when PostgreSQL fails too.
func (l *failoverLimiter) withoutRedis(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, retry, err := l.pg.Allow(ctx, key)
	if err == nil || ctx.Err() != nil {
		return ok, retry, err
	}
	l.f.logger.WarnContext(ctx, "rate limits unreachable in Redis and PostgreSQL: holding them in this process's memory", "error", err)
	l.f.fallbacks.WithLabelValues("rate_limit", "memory").Inc()
	return l.memory.Allow(ctx, key)
}

// Admitter returns the interaction log and the limiter of the same stores
// as one bot.Admitter. With Redis (redis not nil) Admit is one round trip;
// while Redis is down, the id is claimed in PostgreSQL and the request
// counted as Limiter counts it without Redis.
func (f *Failover) Admitter(redis *RedisAdmitter, pgLog bot.InteractionLog, pgLimiter bot.Limiter, memory *bot.MemoryLimiter) bot.Admitter {
	a := &failoverAdmitter{f: f, redis: redis,
		log:     &failoverLog{f: f, pg: pgLog},
		limiter: &failoverLimiter{f: f, pg: pgLimiter, memory: memory}}
	if redis != nil {
		a.log.redis, a.limiter.redis = redis, redis
	}
	return a
}

type failoverAdmitter struct {
	f       *Failover
	redis   *RedisAdmitter // nil without Redis
	log     *failoverLog
	limiter *failoverLimiter
}

func (a *failoverAdmitter) Claim(ctx context.Context, id string, window time.Duration) (bool, error) {
	if a.redis == nil {
		return a.log.pg.Claim(ctx, id, window)
	}
	return a.log.Claim(ctx, id, window)
}

func (a *failoverAdmitter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return a.limiter.Allow(ctx, key)
}

type admitted struct {
	claimed bool
	v       bot.Verdict
}

func (a *failoverAdmitter) Admit(ctx context.Context, id string, window time.Duration, key string) (bool, bot.Verdict, error) {
	withoutRedis := func(ctx context.Context) (admitted, error) {
		claimed, err := a.log.pg.Claim(ctx, id, window)
		if err == nil && !claimed {
			return admitted{}, nil
		}
		v := bot.Verdict{}
		v.OK, v.RetryAfter, v.Err = a.limiter.withoutRedis(ctx, key)
		return admitted{claimed: true, v: v}, err // a failed claim lets it through
	}
	if a.redis == nil {
		r, err := withoutRedis(ctx)
		return r.claimed, r.v, err
	}
	r, err := redisFirst(ctx, a.f, "interaction_ids", redisReadTimeout, func(ctx context.Context) (admitted, error) {
		claimed, v, err := a.redis.Admit(ctx, id, window, key)
		return admitted{claimed, v}, err
	}, func(ctx context.Context) (admitted, error) {
		a.f.fallbacks.WithLabelValues("rate_limit", "postgres").Inc()
		return withoutRedis(ctx)
	})
	return r.claimed, r.v, err
}

// Cache returns a cache in redis, or pg while Redis is down. An
// invalidation goes to both, so that neither serves what it dropped; one
// made while Redis is down does not reach it, and Redis may serve the entry
// it dropped until the entry expires.
func (f *Failover) Cache(redis, pg pnw.Cache) pnw.Cache {
	return &failoverCache{f: f, redis: redis, pg: pg}
}

type failoverCache struct {
	f         *Failover
	redis, pg pnw.Cache
}

type found struct {
	e  pnw.Entry
	ok bool
}

func (c *failoverCache) Get(ctx context.Context, key string) (pnw.Entry, bool, error) {
	get := func(cache pnw.Cache) func(context.Context) (found, error) {
		return func(ctx context.Context) (found, error) {
			e, ok, err := cache.Get(ctx, key)
			return found{e, ok}, err
		}
	}
	r, err := redisFirst(ctx, c.f, "cache", redisReadTimeout, get(c.redis), get(c.pg))
	return r.e, r.ok, err
}

func (c *failoverCache) Set(ctx context.Context, key string, e pnw.Entry, tags []string, keep time.Duration) error {
	set := func(cache pnw.Cache) func(context.Context) (struct{}, error) {
		return func(ctx context.Context) (struct{}, error) { return struct{}{}, cache.Set(ctx, key, e, tags, keep) }
	}
	_, err := redisFirst(ctx, c.f, "cache", redisWriteTimeout, set(c.redis), set(c.pg))
	return err
}

func (c *failoverCache) InvalidateTag(ctx context.Context, tag string) error {
	_, err := redisFirst(ctx, c.f, "cache", redisWriteTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.redis.InvalidateTag(ctx, tag)
	}, func(context.Context) (struct{}, error) { return struct{}{}, nil })
	if err != nil {
		return err
	}
	return c.pg.InvalidateTag(ctx, tag)
}

// failoverLog is an interaction log in redis, or pg while Redis is down.
// An id claimed in one and replayed while the other is in use gets
// through: the switch is rare and a replay that matters needs the database
// anyway.
type failoverLog struct {
	f         *Failover
	redis, pg bot.InteractionLog
}

func (l *failoverLog) Claim(ctx context.Context, id string, window time.Duration) (bool, error) {
	claim := func(log bot.InteractionLog) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) { return log.Claim(ctx, id, window) }
	}
	return redisFirst(ctx, l.f, "interaction_ids", redisReadTimeout, claim(l.redis), claim(l.pg))
}
