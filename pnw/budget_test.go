package pnw_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store/kv"
)

// TestKeyBudgets: each key's daily budget is read from the game's counters,
// me { requests max_requests } and the X-RateLimit headers, and the bot's
// own key's is a metric.
func TestKeyBudgets(t *testing.T) {
	t.Parallel()
	c, b := setup(t)
	remaining := func() float64 {
		t.Helper()
		families, err := b.reg.Gather()
		require.NoError(t, err)
		for _, f := range families {
			if f.GetName() == "pnw_api_key_requests_remaining" {
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no pnw_api_key_requests_remaining")
		return 0
	}
	require.Empty(t, c.KeyBudgets())
	require.True(t, math.IsNaN(remaining()), "unknown until the game says")

	// Unknown, the count is asked of the game; known, it is not asked again.
	b.fake.SetKeyLimit(botKey, 1000, 0)
	require.NoError(t, c.RecheckBudget(t.Context()))
	require.NoError(t, c.RecheckBudget(t.Context()))
	require.Equal(t, 1, b.fake.RequestsFor("me"))
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	got := c.KeyBudgets()
	require.Len(t, got, 1)
	require.True(t, got[0].Own)
	require.Equal(t, 1000, got[0].Limit)
	require.Equal(t, 999, got[0].Remaining)
	require.True(t, got[0].Reset.Equal(midnight), got[0].Reset)

	_, err := c.Nation(t.Context(), officerID)
	require.NoError(t, err)
	require.Equal(t, 998, c.KeyBudgets()[0].Remaining)
	require.Equal(t, 998.0, remaining())

	// A member's key is reported too, after the bot's own.
	_, err = c.Me(t.Context(), memberKey)
	require.NoError(t, err)
	got = c.KeyBudgets()
	require.Len(t, got, 2)
	require.True(t, got[0].Own)
	require.False(t, got[1].Own)
	require.Equal(t, fakepnw.DefaultMaxRequests-1, got[1].Remaining)
	requireNoKey(t, "key id", got[1].KeyID)
}

// TestAllowance: a caller's lookups that spend the bot's key stop at their
// allowance; the bot's own calls (no caller) are not rationed.
func TestAllowance(t *testing.T) {
	t.Parallel()
	c, b := setup(t, func(o *pnw.Options, b *testBundle) {
		o.Allowance = kv.NewRedisLimiter(b.rdb, b.prefix+"allowance:", bot.FixedRate(bot.Rate{Requests: 2, Window: 24 * time.Hour}))
	})
	alice := pnw.WithCaller(t.Context(), pnw.Caller{DiscordID: "1"})
	_, err := c.Nation(alice, 999)
	require.ErrorIs(t, err, pnw.ErrNotFound)
	_, err = c.NationsByName(alice, "Nobody")
	require.NoError(t, err)
	_, err = c.Alliance(alice, 4040)
	require.ErrorIs(t, err, pnw.ErrAllowanceSpent)
	var pe *pnw.Error
	require.ErrorAs(t, err, &pe)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), pe.Reset, time.Minute)
	require.Equal(t, 2, b.fake.Requests())

	// Cached answers cost nothing; others have their own allowance.
	_, err = c.Nation(alice, 999)
	require.ErrorIs(t, err, pnw.ErrNotFound)
	_, err = c.Alliance(pnw.WithCaller(t.Context(), pnw.Caller{DiscordID: "2"}), 4040)
	require.ErrorIs(t, err, pnw.ErrNotFound)
	_, err = c.Nation(t.Context(), officerID)
	require.NoError(t, err)
	require.Equal(t, 4, b.fake.Requests())
	require.Equal(t, 1.0, metric(t, b, "pnw_calls_total", "alliancesByID", "allowance_spent"))
}
