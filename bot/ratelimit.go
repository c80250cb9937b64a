package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Rate is a number of requests allowed in a sliding window.
type Rate struct {
	Requests int
	Window   time.Duration
}

// RateFunc returns the rate in force; limiters read it at each request, so
// that a change of setting counts at once.
type RateFunc func(context.Context) Rate

// FixedRate is a rate that never changes.
func FixedRate(r Rate) RateFunc { return func(context.Context) Rate { return r } }

// Limiter decides whether key may make one more request now; when it may not,
// retryAfter says when it may. store/kv implements it in Redis and in
// PostgreSQL, and MemoryLimiter in this process.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// errLimiterDown answers a request whose rate limit could not be checked.
var errLimiterDown = UserError("pnwbot cannot check its rate limits right now. Try again in a minute.")

// RateLimit denies a user's requests over the limiter's rate with a
// RateLimitedError. Autocomplete, sent on every keystroke, is not counted.
// It never fails open: when the limiter fails the request is refused, with
// a warning. (pnwbot's limiter falls back from Redis to PostgreSQL to the
// process's memory, so that takes all three failing.)
func RateLimit(l Limiter, logger *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Response, error) {
			key := limitKey(req.Interaction)
			if key == "" {
				return next(ctx, req)
			}
			v := req.verdict // counted with the replay claim
			if v == nil {
				v = &Verdict{}
				v.OK, v.RetryAfter, v.Err = l.Allow(ctx, key)
			}
			switch ok, retryAfter, err := v.OK, v.RetryAfter, v.Err; {
			case err != nil:
				logger.WarnContext(ctx, "rate limiter failed, refusing", append(attrs(req), slog.Any("error", err))...)
				return nil, errLimiterDown
			case !ok:
				return nil, &RateLimitedError{RetryAfter: retryAfter}
			}
			return next(ctx, req)
		}
	}
}

// limitKey is the rate limit i counts against: its user's, or "" for
// autocomplete (sent on every keystroke) and interactions without a user.
func limitKey(i *discordgo.Interaction) string {
	switch {
	case i.Type == discordgo.InteractionApplicationCommandAutocomplete:
		return ""
	case i.Member != nil && i.Member.User != nil:
		return "user:" + i.Member.User.ID
	case i.User != nil:
		return "user:" + i.User.ID
	}
	return ""
}

// MemoryLimiter is a sliding-window log in this process's memory: the last
// resort when neither Redis nor PostgreSQL answers, so that the limit still
// holds, per process.
type MemoryLimiter struct {
	rate RateFunc
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	hits map[string][]time.Time // admitted requests by key, oldest first
	// sweepAt is the number of keys at which the next request drops the keys
	// with no request left in the window: memoryKeys, or twice what the last
	// sweep kept, so that while more keys than memoryKeys are in the window
	// each request does not walk them all again.
	sweepAt int
}

// memoryKeys bounds the keys a MemoryLimiter holds before it drops those
// with no request left in the window.
const memoryKeys = 10_000

// NewMemoryLimiter returns an empty limiter.
func NewMemoryLimiter(rate RateFunc) *MemoryLimiter {
	return &MemoryLimiter{rate: rate, hits: map[string][]time.Time{}}
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	rate := l.rate(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	hits := l.inWindow(key, now, rate.Window)
	if len(hits) >= rate.Requests {
		return false, hits[0].Add(rate.Window).Sub(now), nil
	}
	if len(l.hits) >= max(memoryKeys, l.sweepAt) {
		for k := range l.hits {
			l.inWindow(k, now, rate.Window)
		}
		l.sweepAt = 2 * len(l.hits)
	}
	l.hits[key] = append(hits, now)
	return true, 0, nil
}

// inWindow drops key's requests that left the window and returns the rest.
func (l *MemoryLimiter) inWindow(key string, now time.Time, window time.Duration) []time.Time {
	hits := l.hits[key]
	i := 0
	for i < len(hits) && !hits[i].After(now.Add(-window)) {
		i++
	}
	hits = hits[i:]
	if len(hits) == 0 {
		delete(l.hits, key)
	} else {
		l.hits[key] = hits
	}
	return hits
}
