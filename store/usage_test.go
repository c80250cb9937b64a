package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestAPIUsageLogs(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		u1, u2   store.User
		alliance store.Alliance
		now      time.Time
	}

	// setup logs four calls in the last hour and one two hours ago.
	setup := func(t *testing.T) (*store.Store, *testBundle) {
		t.Helper()
		s := storetest.NewDB(t)
		b := &testBundle{u1: newUser(t, s, "1"), u2: newUser(t, s, "2"), alliance: newAlliance(t, s, 10, "rose"), now: time.Now()}
		recent := b.now.Add(-time.Minute)
		n, err := s.APIUsageLogInsertBatch(t.Context(), []store.APIUsageLogInsertBatchParams{
			{UserID: &b.u1.ID, AllianceID: &b.alliance.ID, Endpoint: "nation", StatusCode: 200, ResponseTimeMs: 100, CreatedAt: recent},
			{UserID: &b.u1.ID, AllianceID: &b.alliance.ID, Endpoint: "nation", StatusCode: 200, CacheHit: true, CreatedAt: recent},
			{UserID: &b.u2.ID, Endpoint: "nation", StatusCode: 500, ResponseTimeMs: 300, CreatedAt: recent},
			{UserID: &b.u1.ID, Endpoint: "alliance", StatusCode: 0, ResponseTimeMs: 50, CreatedAt: recent},
			{UserID: &b.u1.ID, Endpoint: "alliance", StatusCode: 200, ResponseTimeMs: 70, CreatedAt: b.now.Add(-2 * time.Hour)},
		})
		require.NoError(t, err)
		require.EqualValues(t, 5, n)
		return s, b
	}

	t.Run("Summary", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)
		since := b.now.Add(-time.Hour)

		all, err := s.APIUsageLogSummary(t.Context(), store.APIUsageLogSummaryParams{Since: since})
		require.NoError(t, err)
		require.Equal(t, []store.APIUsageLogSummaryRow{
			{Endpoint: "nation", Calls: 3, CacheHits: 1, Errors: 1, AvgResponseMs: 200},
			{Endpoint: "alliance", Calls: 1, Errors: 1, AvgResponseMs: 50},
		}, all)

		byUser, err := s.APIUsageLogSummary(t.Context(), store.APIUsageLogSummaryParams{Since: since, UserID: &b.u1.ID})
		require.NoError(t, err)
		require.Equal(t, []store.APIUsageLogSummaryRow{
			{Endpoint: "nation", Calls: 2, CacheHits: 1, AvgResponseMs: 100},
			{Endpoint: "alliance", Calls: 1, Errors: 1, AvgResponseMs: 50},
		}, byUser)

		byAlliance, err := s.APIUsageLogSummary(t.Context(), store.APIUsageLogSummaryParams{Since: since, AllianceID: &b.alliance.ID})
		require.NoError(t, err)
		require.Equal(t, []store.APIUsageLogSummaryRow{
			{Endpoint: "nation", Calls: 2, CacheHits: 1, AvgResponseMs: 100},
		}, byAlliance)

		longer, err := s.APIUsageLogSummary(t.Context(), store.APIUsageLogSummaryParams{Since: b.now.Add(-3 * time.Hour), UserID: &b.u1.ID})
		require.NoError(t, err)
		// Equal calls fall back to endpoint order.
		require.Equal(t, []store.APIUsageLogSummaryRow{
			{Endpoint: "alliance", Calls: 2, Errors: 1, AvgResponseMs: 60},
			{Endpoint: "nation", Calls: 2, CacheHits: 1, AvgResponseMs: 100},
		}, longer)
	})

	t.Run("CountUpstream", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		for _, c := range []struct {
			since time.Duration
			want  int64
		}{{time.Hour, 2}, {3 * time.Hour, 3}} {
			n, err := s.APIUsageLogCountUpstream(t.Context(), store.APIUsageLogCountUpstreamParams{UserID: &b.u1.ID, Since: b.now.Add(-c.since)})
			require.NoError(t, err)
			require.Equal(t, c.want, n, "since %v", c.since)
		}
	})
}

// TestRateLimits covers the query; bot's TestLimiters covers the limiter
// built on it, beside the Redis one.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	s := storetest.NewDB(t)
	start := time.Now().Truncate(time.Millisecond)
	const window = 10 * time.Second
	hit := func(id string, at time.Duration) store.RateLimitHitRow {
		t.Helper()
		now := start.Add(at)
		row, err := s.RateLimitHit(t.Context(), store.RateLimitHitParams{
			Identifier: id, Now: now, Since: now.Add(-window), Until: now.Add(window), MaxRequests: 2,
		})
		require.NoError(t, err)
		return row
	}
	times := func(ats ...time.Duration) []time.Time {
		var out []time.Time
		for _, at := range ats {
			out = append(out, start.Add(at))
		}
		return out
	}
	requireHit := func(want, got store.RateLimitHitRow) {
		t.Helper()
		require.Equal(t, want.Admitted, got.Admitted)
		require.Len(t, got.Hits, len(want.Hits))
		for i := range want.Hits {
			require.True(t, want.Hits[i].Equal(got.Hits[i]), "hit %d: want %v, got %v", i, want.Hits[i], got.Hits[i])
		}
	}

	requireHit(store.RateLimitHitRow{Admitted: true, Hits: times(0)}, hit("user:1", 0))
	requireHit(store.RateLimitHitRow{Admitted: true, Hits: times(0, time.Second)}, hit("user:1", time.Second))
	// Denied: not recorded.
	requireHit(store.RateLimitHitRow{Admitted: false, Hits: times(0, time.Second)}, hit("user:1", 2*time.Second))
	// The first hit has left the window: it is dropped, the new one kept.
	requireHit(store.RateLimitHitRow{Admitted: true, Hits: times(time.Second, window)}, hit("user:1", window))
	requireHit(store.RateLimitHitRow{Admitted: true, Hits: times(window)}, hit("user:2", window))

	// One row per identifier, living a window past its latest check.
	require.Equal(t, 2, count(t, s, "rate_limits"))
	require.Equal(t, 1, count(t, s, "rate_limits WHERE identifier = 'user:1' AND expires_at = $1", start.Add(2*window)))
}
