package kv_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// limiters builds each implementation at a rate, reading a clock the test
// sets.
func limiters(t *testing.T) map[string]func(rate bot.Rate, now func() time.Time) bot.Limiter {
	client, prefix := storetest.NewRedis(t)
	st := storetest.NewDB(t)
	return map[string]func(bot.Rate, func() time.Time) bot.Limiter{
		"Redis": func(rate bot.Rate, now func() time.Time) bot.Limiter {
			l := kv.NewRedisLimiter(client, prefix, bot.FixedRate(rate))
			l.Now = now
			return l
		},
		"Memory": func(rate bot.Rate, now func() time.Time) bot.Limiter {
			l := bot.NewMemoryLimiter(bot.FixedRate(rate))
			l.Now = now
			return l
		},
		"PostgreSQL": func(rate bot.Rate, now func() time.Time) bot.Limiter {
			l := kv.NewPostgresLimiter(st, bot.FixedRate(rate))
			l.Now = now
			return l
		},
	}
}

// check is one request and the limiter's expected answer.
type check struct {
	at    time.Duration // since the case began
	key   string        // default "user:1"
	allow bool
	retry time.Duration // when denied
}

// TestLimiters runs one table against every implementation: each admits a
// request while fewer than the rate's requests were admitted in the window
// before it, and says when the next one fits.
func TestLimiters(t *testing.T) {
	t.Parallel()
	s := time.Second
	cases := []struct {
		name   string
		rate   bot.Rate
		checks []check
	}{
		{"UpToTheLimit", bot.Rate{Requests: 3, Window: 10 * s}, []check{
			{at: 0, allow: true}, {at: 0, allow: true}, {at: 0, allow: true},
			{at: 0, retry: 10 * s},
			{at: 10*s - time.Millisecond, retry: time.Millisecond},
			// A request leaves the window when it is a window old.
			{at: 10 * s, allow: true}, {at: 10 * s, allow: true}, {at: 10 * s, allow: true},
			{at: 10 * s, retry: 10 * s},
		}},
		{"SlidesOneRequestAtATime", bot.Rate{Requests: 2, Window: 10 * s}, []check{
			{at: 0, allow: true}, {at: 4 * s, allow: true},
			{at: 5 * s, retry: 5 * s},
			{at: 10 * s, allow: true},
			{at: 11 * s, retry: 3 * s},
			{at: 14 * s, allow: true},
		}},
		{"DeniedRequestsDoNotCount", bot.Rate{Requests: 1, Window: 10 * s}, []check{
			{at: 0, allow: true},
			{at: 3 * s, retry: 7 * s}, {at: 6 * s, retry: 4 * s}, {at: 9 * s, retry: s},
			{at: 10 * s, allow: true},
		}},
		{"KeysAreIndependent", bot.Rate{Requests: 1, Window: time.Minute}, []check{
			{at: 0, allow: true},
			{at: 0, retry: time.Minute},
			{at: 0, key: "user:2", allow: true},
			{at: 0, key: "user:2", retry: time.Minute},
		}},
		// 30 requests at second 58, then one every 2 s: the fixed-window
		// estimate this replaces let 58 through within one minute.
		{"BurstAtAWindowEdge", bot.Rate{Requests: 30, Window: time.Minute}, burstChecks()},
	}
	for name, newLimiter := range limiters(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					start := time.Now().Truncate(time.Millisecond) // Redis scores in milliseconds
					var at time.Duration
					l := newLimiter(c.rate, func() time.Time { return start.Add(at) })
					prefix := fmt.Sprintf("%s:%d:", c.name, start.UnixNano())
					admitted := map[string][]time.Duration{} // by key
					for i, ch := range c.checks {
						at = ch.at
						if ch.key == "" {
							ch.key = "user:1"
						}
						ok, retry, err := l.Allow(t.Context(), prefix+ch.key)
						require.NoError(t, err)
						require.Equal(t, ch.allow, ok, "check %d at %v", i, ch.at)
						if ok {
							admitted[ch.key] = append(admitted[ch.key], ch.at)
							continue
						}
						require.Equal(t, ch.retry, retry, "check %d at %v", i, ch.at)
					}
					// However the table is written: never more than the rate
					// in any window.
					for key, times := range admitted {
						for _, end := range times {
							n := 0
							for _, a := range times {
								if a > end-c.rate.Window && a <= end {
									n++
								}
							}
							require.LessOrEqual(t, n, c.rate.Requests, "%s: window ending at %v", key, end)
						}
					}
				})
			}
		})
	}
}

// burstChecks: 30 requests at 58 s are admitted; one every 2 s from 60 s is
// denied until the burst leaves the window at 118 s, then each is admitted.
func burstChecks() []check {
	var checks []check
	for range 30 {
		checks = append(checks, check{at: 58 * time.Second, allow: true})
	}
	for at := 60 * time.Second; at <= 180*time.Second; at += 2 * time.Second {
		if at < 118*time.Second {
			checks = append(checks, check{at: at, retry: 118*time.Second - at})
		} else {
			checks = append(checks, check{at: at, allow: true})
		}
	}
	return checks
}

// TestLimitersUnderConcurrency: requests arriving together are admitted up to
// the rate, not one more.
func TestLimitersUnderConcurrency(t *testing.T) {
	t.Parallel()
	rate := bot.Rate{Requests: 10, Window: time.Minute}
	const requests = 50
	for name, newLimiter := range limiters(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			now := time.Now().Truncate(time.Millisecond)
			l := newLimiter(rate, func() time.Time { return now })
			var admitted atomic.Int64
			var wg sync.WaitGroup
			release := make(chan struct{})
			errs := make(chan error, requests)
			for range requests {
				wg.Go(func() {
					<-release
					ok, _, err := l.Allow(context.Background(), "user:1")
					if ok {
						admitted.Add(1)
					}
					errs <- err
				})
			}
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			require.EqualValues(t, rate.Requests, admitted.Load())
		})
	}
}

// PostgresLimiter's cost: one round trip per check, admitted or denied.
func TestLimiterOneRoundTrip(t *testing.T) {
	t.Parallel()
	counted, queries := storetest.Counted(t, storetest.NewDB(t))
	l := kv.NewPostgresLimiter(counted, bot.FixedRate(bot.Rate{Requests: 1, Window: time.Minute}))

	for _, want := range []bool{true, false} {
		before := queries.N()
		ok, _, err := l.Allow(t.Context(), "user:1")
		require.NoError(t, err)
		require.Equal(t, want, ok)
		require.EqualValues(t, 1, queries.N()-before)
	}
}

// Admit claims the interaction id and counts its user's request, in Redis
// in one script and without Redis in PostgreSQL: a replayed id is refused
// and not counted, a new one is counted against the limit.
func TestAdmit(t *testing.T) {
	t.Parallel()
	rate := bot.Rate{Requests: 2, Window: time.Minute}
	client, prefix := storetest.NewRedis(t)
	st := storetest.NewDB(t)
	f, err := kv.NewFailover(prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	for name, a := range map[string]bot.Admitter{
		"Redis": kv.NewRedisAdmitter(kv.NewRedisInteractionLog(client, prefix), kv.NewRedisLimiter(client, prefix, bot.FixedRate(rate))),
		"PostgreSQL": f.Admitter(nil, kv.NewPostgresInteractionLog(st), kv.NewPostgresLimiter(st, bot.FixedRate(rate)),
			bot.NewMemoryLimiter(bot.FixedRate(rate))),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			admit := func(id string) (bool, bot.Verdict) {
				claimed, v, err := a.Admit(ctx, name+id, time.Minute, "user:"+name)
				require.NoError(t, err)
				require.NoError(t, v.Err)
				return claimed, v
			}
			claimed, v := admit("1")
			require.True(t, claimed)
			require.True(t, v.OK)
			claimed, v = admit("1")
			require.False(t, claimed, "a replay")
			require.False(t, v.OK)
			claimed, v = admit("2")
			require.True(t, claimed)
			require.True(t, v.OK, "the replay was not counted")
			claimed, v = admit("3")
			require.True(t, claimed)
			require.False(t, v.OK, "over the limit")
			require.InDelta(t, time.Minute, v.RetryAfter, float64(5*time.Second))
			first, err := a.Claim(ctx, name+"3", time.Minute)
			require.NoError(t, err)
			require.False(t, first, "Claim sees Admit's claims")
		})
	}
}
