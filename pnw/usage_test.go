package pnw_test

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
)

func closeClient(t testing.TB, c *pnw.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Close(ctx))
}

type usageRow struct {
	UserID, AllianceID *int64
	Endpoint           string
	QueryHash          string
	Status             int
	CacheHit           bool
}

func usageRows(t testing.TB, b *testBundle) []usageRow {
	t.Helper()
	rows, err := b.db.Pool.Query(t.Context(), `SELECT user_id, alliance_id, endpoint, query_hash, status_code, cache_hit FROM api_usage_logs ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []usageRow
	for rows.Next() {
		var r usageRow
		require.NoError(t, rows.Scan(&r.UserID, &r.AllianceID, &r.Endpoint, &r.QueryHash, &r.Status, &r.CacheHit))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestUsageLog(t *testing.T) {
	t.Parallel()
	c, b := setup(t)
	var userID, allianceRowID int64
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	require.NoError(t, b.db.Pool.QueryRow(t.Context(), `INSERT INTO users (discord_id, key_salt) VALUES ('42', $1) RETURNING id`, salt).Scan(&userID))
	require.NoError(t, b.db.Pool.QueryRow(t.Context(), `INSERT INTO alliances (pnw_alliance_id, name, route_slug) VALUES (7, 'Rose', 'rose') RETURNING id`).Scan(&allianceRowID))
	ctx := pnw.WithCaller(t.Context(), pnw.Caller{UserID: userID, AllianceID: allianceRowID})

	_, err := c.Alliance(ctx, allianceID) // upstream
	require.NoError(t, err)
	_, err = c.Alliance(ctx, allianceID) // cache hit
	require.NoError(t, err)
	_, err = c.Me(t.Context(), "nosuchkey0123456789") // 401, no caller
	require.ErrorIs(t, err, pnw.ErrInvalidKey)
	// A caller deleted before the flush keeps its row, without identity.
	_, err = c.Nation(pnw.WithCaller(t.Context(), pnw.Caller{UserID: userID + 1000}), officerID)
	require.NoError(t, err)
	closeClient(t, c)

	rows := usageRows(t, b)
	require.Len(t, rows, 4)
	require.Equal(t, usageRow{UserID: &userID, AllianceID: &allianceRowID, Endpoint: "alliancesByID", QueryHash: rows[0].QueryHash, Status: 200}, rows[0])
	require.Equal(t, usageRow{UserID: &userID, AllianceID: &allianceRowID, Endpoint: "alliancesByID", QueryHash: rows[0].QueryHash, Status: 200, CacheHit: true}, rows[1])
	require.Len(t, rows[0].QueryHash, 16)
	require.Equal(t, usageRow{Endpoint: "me", QueryHash: rows[2].QueryHash, Status: 401}, rows[2])
	require.Equal(t, usageRow{Endpoint: "nationsByID", QueryHash: rows[3].QueryHash, Status: 200}, rows[3])

	require.Equal(t, 2.0, metric(t, b, "pnw_calls_total", "alliancesByID", "ok"))
	require.Equal(t, 1.0, metric(t, b, "pnw_calls_total", "me", "invalid_key"))
	require.Equal(t, 1.0, metric(t, b, "pnw_cache_lookups_total", "alliancesByID", "hit"))
	require.Equal(t, 1.0, metric(t, b, "pnw_cache_lookups_total", "alliancesByID", "miss"))
	series, err := testutil.GatherAndCount(b.reg, "pnw_upstream_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 3, series, "one series per operation and status")
}

func TestUsageLogNeverBlocks(t *testing.T) {
	t.Parallel()
	// A store that never answers: calls still complete, rows beyond the
	// buffer are dropped and counted.
	stuck := make(chan struct{})
	c, b := setup(t, func(o *pnw.Options, _ *testBundle) { o.Usage = blockingStore{stuck} })
	t.Cleanup(func() { close(stuck) })
	for range 6000 {
		_, err := c.Alliance(t.Context(), allianceID)
		require.NoError(t, err)
	}
	require.Positive(t, metric(t, b, "pnw_usage_log_dropped_total"))
}

type blockingStore struct{ stuck chan struct{} }

func (s blockingStore) InsertUsage(ctx context.Context, _ []pnw.UsageRow) error {
	select {
	case <-s.stuck:
	case <-ctx.Done():
	}
	return ctx.Err()
}

// metric returns the value of the series of name whose label values are
// labels (in label-name order).
func metric(t testing.TB, b *testBundle, name string, labels ...string) float64 {
	t.Helper()
	families, err := b.reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var values []string
			for _, l := range m.GetLabel() {
				values = append(values, l.GetValue())
			}
			if slices.Equal(values, labels) {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}
