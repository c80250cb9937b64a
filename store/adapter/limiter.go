package adapter

import (
	"context"
	"fmt"
	"time"

	"pnwbot/bot"
	"pnwbot/store"
)

// Limiter is a bot.Limiter over the rate_limits table, for installs without
// Redis: like bot.RedisLimiter, a sliding-window log that admits a request
// while fewer than the rate's requests were admitted in the window before it.
// Each check is one upsert, atomic under concurrency.
type Limiter struct {
	st   *store.Store
	rate bot.RateFunc
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewLimiter returns a limiter over st's rate_limits table.
func NewLimiter(st *store.Store, rate bot.RateFunc) *Limiter {
	return &Limiter{st: st, rate: rate}
}

// Allow implements bot.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
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
