package pnw

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestResetTime: the game and the proxies in front of it say when a rate
// limit ends in several ways; the most precise one present wins.
func TestResetTime(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	at := strconv.FormatInt(now.Add(90*time.Second).Unix(), 10)
	for name, tc := range map[string]struct {
		headers map[string]string
		want    time.Time
	}{
		"reset after, fractional": {map[string]string{"X-RateLimit-Reset-After": "2.5"}, now.Add(2500 * time.Millisecond)},
		"reset after, zero":       {map[string]string{"X-RateLimit-Reset-After": "0"}, now},
		"reset at":                {map[string]string{"X-RateLimit-Reset": at}, now.Add(90 * time.Second)},
		"retry after":             {map[string]string{"Retry-After": "30"}, now.Add(30 * time.Second)},
		"reset after beats reset at": {map[string]string{"X-RateLimit-Reset-After": "5", "X-RateLimit-Reset": at, "Retry-After": "30"},
			now.Add(5 * time.Second)},
		"reset at beats retry after": {map[string]string{"X-RateLimit-Reset": at, "Retry-After": "30"}, now.Add(90 * time.Second)},
		"malformed ones are skipped": {map[string]string{"X-RateLimit-Reset-After": "soon", "X-RateLimit-Reset": "-1", "Retry-After": "7"},
			now.Add(7 * time.Second)},
		"an HTTP date is not read":    {map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now.Add(time.Second)},
		"negative delays are skipped": {map[string]string{"X-RateLimit-Reset-After": "-3", "Retry-After": "-1"}, now.Add(time.Second)},
		"none: a second":              {nil, now.Add(time.Second)},
	} {
		h := http.Header{}
		for k, v := range tc.headers {
			h.Set(k, v)
		}
		require.True(t, tc.want.Equal(resetTime(h, now)), "%s: got %s, want %s", name, resetTime(h, now), tc.want)
	}
}

// TestLimiterForgetsPastRests: a key that rested and was never used again
// (unlinked, replaced) is forgotten once another key begins a rest, so the
// rests held are those of keys resting now.
func TestLimiterForgetsPastRests(t *testing.T) {
	t.Parallel()
	l := limiter{until: map[string]time.Time{}}
	past := http.Header{}
	past.Set("X-RateLimit-Reset-After", "0")
	for i := range 1000 {
		l.observe(strconv.Itoa(i), http.StatusTooManyRequests, past)
	}
	resting := http.Header{}
	resting.Set("X-RateLimit-Reset-After", "60")
	l.observe("busy", http.StatusTooManyRequests, resting)
	require.Equal(t, []string{"busy"}, slices.Collect(maps.Keys(l.until)))
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	require.ErrorIs(t, l.wait(ctx, "busy", "nation"), ErrRateLimited, "the resting key still rests, longer than ctx allows")
}
