package adapter

import (
	"context"
	"fmt"
	"time"

	"pnwbot/bot"
	"pnwbot/store"
)

// Limiter is a bot.Limiter over the rate_limits table, for installs without
// Redis. It estimates a sliding window from the counts of the current and the
// previous fixed windows: the previous one weighs by how much of it the
// sliding window still covers. Denied requests count too, so a user who keeps
// hammering stays limited.
type Limiter struct {
	store *store.Store
	rate  bot.Rate
}

// NewLimiter returns a limiter over the rate_limits table.
func NewLimiter(s *store.Store, rate bot.Rate) *Limiter {
	return &Limiter{store: s, rate: rate}
}

// Allow implements bot.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	now := time.Now()
	start := now.Truncate(l.rate.Window)
	hit, err := l.store.RateLimitHit(ctx, store.RateLimitHitParams{
		Identifier:  key,
		WindowStart: start,
		WindowEnd:   start.Add(l.rate.Window),
		MaxRequests: int32(l.rate.Requests),
	})
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	both, err := l.store.RateLimitCount(ctx, store.RateLimitCountParams{Identifier: key, Since: start.Add(-l.rate.Window)})
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	current := float64(hit.Requests)
	previous := float64(both) - current
	elapsed := float64(now.Sub(start)) / float64(l.rate.Window)
	if previous*(1-elapsed)+current <= float64(l.rate.Requests) {
		return true, 0, nil
	}
	// The next request fits once the previous window's weight has fallen
	// enough; when the current window alone is full, only its end helps.
	limit := float64(l.rate.Requests)
	wait := hit.WindowEnd.Sub(now)
	if current+1 <= limit && previous > 0 {
		wait = time.Duration((1 - (limit-current-1)/previous - elapsed) * float64(l.rate.Window))
	}
	return false, max(wait, time.Second), nil
}
