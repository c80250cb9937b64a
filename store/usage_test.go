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

func TestRateLimits(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *store.Store {
		t.Helper()
		return storetest.NewDB(t)
	}

	hit := func(t *testing.T, s *store.Store, id string, start time.Time) store.RateLimitHitRow {
		t.Helper()
		row, err := s.RateLimitHit(t.Context(), store.RateLimitHitParams{
			Identifier: id, WindowStart: start, WindowEnd: start.Add(time.Minute), MaxRequests: 30,
		})
		require.NoError(t, err)
		return row
	}

	t.Run("CountsPerWindow", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		window := time.Now().Truncate(time.Minute)

		for want := int32(1); want <= 3; want++ {
			row := hit(t, s, "user:1", window)
			require.Equal(t, want, row.Requests)
			require.EqualValues(t, 30, row.MaxRequests)
			require.True(t, row.WindowEnd.Equal(window.Add(time.Minute)))
		}
		// Another identifier has its own count; the next window starts over.
		require.EqualValues(t, 1, hit(t, s, "user:2", window).Requests)
		require.EqualValues(t, 1, hit(t, s, "user:1", window.Add(time.Minute)).Requests)
		require.EqualValues(t, 2, hit(t, s, "user:1", window.Add(time.Minute)).Requests)

		total, err := s.RateLimitCount(t.Context(), store.RateLimitCountParams{Identifier: "user:1", Since: window})
		require.NoError(t, err)
		require.EqualValues(t, 5, total)
		latest, err := s.RateLimitCount(t.Context(), store.RateLimitCountParams{Identifier: "user:1", Since: window.Add(time.Minute)})
		require.NoError(t, err)
		require.EqualValues(t, 2, latest)
	})

	t.Run("ConcurrentHitsAllCount", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		window := time.Now().Truncate(time.Minute)

		const n = 20
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := s.RateLimitHit(t.Context(), store.RateLimitHitParams{
					Identifier: "ip:1", WindowStart: window, WindowEnd: window.Add(time.Minute), MaxRequests: 30,
				})
				errs <- err
			}()
		}
		for range n {
			require.NoError(t, <-errs)
		}
		total, err := s.RateLimitCount(t.Context(), store.RateLimitCountParams{Identifier: "ip:1", Since: window})
		require.NoError(t, err)
		require.EqualValues(t, n, total)
	})
}
