package kv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"pnwbot/bot"
	"pnwbot/store"
)

// PostgresLimiter is a bot.Limiter over the rate_limits table, for installs
// without Redis and while Redis is down: like RedisLimiter, a sliding-window
// log that admits a request while fewer than the rate's requests were
// admitted in the window before it. Each check is one upsert, atomic under
// concurrency.
type PostgresLimiter struct {
	st   *store.Store
	rate bot.RateFunc
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewPostgresLimiter returns a limiter over st's rate_limits table.
func NewPostgresLimiter(st *store.Store, rate bot.RateFunc) *PostgresLimiter {
	return &PostgresLimiter{st: st, rate: rate}
}

// Allow implements bot.Limiter.
func (l *PostgresLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	rate := l.rate(ctx)
	hit, err := l.st.RateLimitHit(ctx, store.RateLimitHitParams{
		Identifier:  key,
		Now:         now,
		Since:       now.Add(-rate.Window),
		Until:       now.Add(rate.Window),
		MaxRequests: int32(rate.Requests),
	})
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if hit.Admitted {
		return true, 0, nil
	}
	// Denied, the hits are those in the window, oldest first: the next
	// request fits once the oldest leaves.
	return false, max(hit.Hits[0].Add(rate.Window).Sub(now), time.Millisecond), nil
}

// slidingLog keeps one sorted-set member per allowed request, scored by its
// time in milliseconds, and admits a request while fewer than the limit are
// younger than the window. It returns 0 when allowed, else the milliseconds
// until the oldest request leaves the window.
const slidingLog = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`

// RedisLimiter is a sliding-window log in Redis, checked and updated
// atomically by one script.
type RedisLimiter struct {
	client *redis.Client
	prefix string
	rate   bot.RateFunc
	script *redis.Script
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewRedisLimiter returns a limiter keeping its keys under prefix.
func NewRedisLimiter(client *redis.Client, prefix string, rate bot.RateFunc) *RedisLimiter {
	return &RedisLimiter{client: client, prefix: prefix, rate: rate, script: redis.NewScript(slidingLog)}
}

// Allow implements bot.Limiter.
func (l *RedisLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	keys, args := l.args(ctx, key, 0)
	wait, err := l.script.Run(ctx, l.client, keys, args...).Int64()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	return wait == 0, time.Duration(wait) * time.Millisecond, nil
}

// args are slidingLog's keys and arguments for one request of key, with
// room for extra more of each.
func (l *RedisLimiter) args(ctx context.Context, key string, extra int) ([]string, []any) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	rate := l.rate(ctx)
	return append(make([]string, 0, 1+extra), l.prefix+"ratelimit:"+key),
		append(make([]any, 0, 4+extra), now.UnixMilli(), rate.Window.Milliseconds(), rate.Requests, hex.EncodeToString(b[:]))
}

// claimThenLimit claims the interaction id KEYS[2] for ARGV[5]
// milliseconds, as RedisInteractionLog does, and when it was new counts the
// request as slidingLog does. -1 means the id was claimed before: nothing
// was counted.
const claimThenLimit = `
if not redis.call('SET', KEYS[2], 1, 'NX', 'PX', ARGV[5]) then return -1 end
` + slidingLog

// RedisAdmitter is a RedisInteractionLog and a RedisLimiter whose Admit
// makes both checks of an interaction in one script: one round trip.
type RedisAdmitter struct {
	*RedisInteractionLog
	*RedisLimiter
	script *redis.Script
}

// NewRedisAdmitter joins log and limiter.
func NewRedisAdmitter(log *RedisInteractionLog, limiter *RedisLimiter) *RedisAdmitter {
	return &RedisAdmitter{RedisInteractionLog: log, RedisLimiter: limiter, script: redis.NewScript(claimThenLimit)}
}

// Admit implements bot.Admitter. When Redis fails, both checks failed.
func (a *RedisAdmitter) Admit(ctx context.Context, id string, window time.Duration, key string) (bool, bot.Verdict, error) {
	keys, args := a.args(ctx, key, 1)
	wait, err := a.script.Run(ctx, a.client, append(keys, a.key(id)), append(args, window.Milliseconds())...).Int64()
	switch {
	case err != nil:
		err = fmt.Errorf("replay claim and rate limit: %w", err)
		return false, bot.Verdict{Err: err}, err
	case wait < 0:
		return false, bot.Verdict{}, nil
	}
	return true, bot.Verdict{OK: wait == 0, RetryAfter: time.Duration(wait) * time.Millisecond}, nil
}
