package store_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestPrune(t *testing.T) {
	t.Parallel()

	type testBundle struct{ now time.Time }

	// setup writes, for every table with retention, rows just past it and rows
	// just inside it. Old usage rows outnumber one delete batch.
	setup := func(t *testing.T) (*store.Store, *testBundle) {
		t.Helper()
		s := storetest.NewDB(t)
		ctx := t.Context()
		b := &testBundle{now: time.Now()}
		u := newUser(t, s, "1")

		var usage []store.APIUsageLogInsertBatchParams
		for i := range 2500 {
			usage = append(usage, store.APIUsageLogInsertBatchParams{
				UserID: &u.ID, Endpoint: "nation", StatusCode: 200,
				CreatedAt: b.now.Add(-store.UsageRetention - time.Hour - time.Duration(i)*time.Second),
			})
		}
		for range 10 {
			usage = append(usage, store.APIUsageLogInsertBatchParams{
				UserID: &u.ID, Endpoint: "recent", StatusCode: 200, CreatedAt: b.now.Add(-store.UsageRetention + time.Hour),
			})
		}
		_, err := s.APIUsageLogInsertBatch(ctx, usage)
		require.NoError(t, err)

		for _, age := range []time.Duration{store.AuditRetention + time.Hour, store.AuditRetention + 24*time.Hour, store.AuditRetention - time.Hour} {
			_, err := s.Pool.Exec(ctx, "INSERT INTO audit_logs (action, created_at) VALUES ('login', $1)", b.now.Add(-age))
			require.NoError(t, err)
		}

		for key, ttl := range map[string]time.Duration{"old1": -time.Hour, "old2": -time.Second, "fresh": time.Hour} {
			require.NoError(t, s.CacheSet(ctx, store.CacheSetParams{CacheKey: key, Data: []byte(`{}`), Tags: []string{}, ExpiresAt: b.now.Add(ttl)}))
		}

		// Two users' last requests have left their minute's window; two have not.
		for i, age := range []time.Duration{3 * time.Hour, 2 * time.Minute, 30 * time.Second, 0} {
			at := b.now.Add(-age)
			_, err := s.RateLimitHit(ctx, store.RateLimitHitParams{
				Identifier: fmt.Sprintf("user:%d", i), Now: at, Since: at.Add(-time.Minute), Until: at.Add(time.Minute), MaxRequests: 30,
			})
			require.NoError(t, err)
		}

		for token, expires := range map[string]string{"expired": "now() - interval '1 minute'", "active": "now() + interval '1 hour'", "revoked": "now() + interval '1 hour'"} {
			h := sha256.Sum256([]byte(token))
			_, err := s.Pool.Exec(ctx, `INSERT INTO user_sessions (user_id, token_hash, expires_at, created_at)
				VALUES ($1, $2, `+expires+`, now() - interval '1 day')`, u.ID, h[:])
			require.NoError(t, err)
		}
		for id, age := range map[int64]time.Duration{1: store.SeenRetention + time.Hour, 2: store.SeenRetention - time.Hour} {
			_, err := s.Pool.Exec(ctx, "INSERT INTO seen_nations (nation_id, nation_name, seen_at) VALUES ($1, 'n', $2)", id, b.now.Add(-age))
			require.NoError(t, err)
			_, err = s.Pool.Exec(ctx, "INSERT INTO seen_alliances (alliance_id, name, seen_at) VALUES ($1, 'a', $2)", id, b.now.Add(-age))
			require.NoError(t, err)
		}
		for id, ttl := range map[string]time.Duration{"1": -time.Second, "2": time.Minute} {
			_, err := s.SeenInteractionClaim(ctx, store.SeenInteractionClaimParams{InteractionID: id, ExpiresAt: b.now.Add(ttl)})
			require.NoError(t, err)
		}
		h := sha256.Sum256([]byte("revoked"))
		_, err = s.UserSessionRevoke(ctx, h[:])
		require.NoError(t, err)
		return s, b
	}

	t.Run("DeletesOnlyPastRetention", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		deleted, err := s.Prune(t.Context(), b.now)
		require.NoError(t, err)
		require.Equal(t, map[string]int64{
			"api_usage_logs":    2500, // three batches
			"audit_logs":        2,
			"pnw_data_cache":    2,
			"rate_limits":       2,
			"seen_nations":      1,
			"seen_alliances":    1,
			"user_sessions":     1,
			"seen_interactions": 1,
		}, deleted)
		require.Equal(t, 1, count(t, s, "seen_interactions WHERE interaction_id = '2'"))
		require.Equal(t, 1, count(t, s, "seen_nations WHERE nation_id = 2"))
		require.Equal(t, 1, count(t, s, "seen_alliances WHERE alliance_id = 2"))

		require.Equal(t, 10, count(t, s, "api_usage_logs"))
		require.Equal(t, 10, count(t, s, "api_usage_logs WHERE endpoint = 'recent'"))
		require.Equal(t, 1, count(t, s, "audit_logs WHERE created_at > $1", b.now.Add(-store.AuditRetention)))
		require.Equal(t, 1, count(t, s, "audit_logs"))
		require.Equal(t, 1, count(t, s, "pnw_data_cache WHERE cache_key = 'fresh'"))
		require.Equal(t, 1, count(t, s, "pnw_data_cache"))
		require.Equal(t, 2, count(t, s, "rate_limits WHERE expires_at > $1", b.now))
		require.Equal(t, 2, count(t, s, "rate_limits"))
		// A revoked session stays until it expires; only expiry removes it.
		require.Equal(t, 2, count(t, s, "user_sessions"))
		require.Zero(t, count(t, s, "user_sessions WHERE expires_at < now()"))
	})

	t.Run("SecondRunDeletesNothing", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		_, err := s.Prune(t.Context(), b.now)
		require.NoError(t, err)
		deleted, err := s.Prune(t.Context(), b.now)
		require.NoError(t, err)
		for table, n := range deleted {
			require.Zero(t, n, table)
		}
		require.Len(t, deleted, 8)
	})
}
