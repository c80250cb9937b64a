package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/commands"
	"pnwbot/pnw"
	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// TestUnknownLookupsAreCached: the same unknown id or name asked again,
// by anyone, costs the bot's key nothing.
func TestUnknownLookupsAreCached(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	for _, user := range []string{aliceID, bobID, aliceID} {
		_, err := b.serve(t, "nation", "nation", "999999", "user", user)
		require.ErrorContains(t, err, "The game has no nation with id 999999.")
		_, err = b.serve(t, "alliance_info", "alliance", "4040", "user", user)
		require.ErrorContains(t, err, "4040")
		_, err = b.serve(t, "nation", "nation", "Zzyzx", "user", user)
		require.ErrorContains(t, err, `No nation is named "Zzyzx"`)
	}
	require.Equal(t, 1, b.game.RequestsFor("nationsByID"))
	require.Equal(t, 1, b.game.RequestsFor("alliancesByID"))
	require.Equal(t, 1, b.game.RequestsFor("nationsByName"))
}

// withAllowance rebuilds the bundle's game client with a daily allowance of
// n lookups per user, kept with the cache in backend: "postgres" or "redis".
func withAllowance(t *testing.T, b *testBundle, backend string, n int) {
	t.Helper()
	rate := bot.Rate{Requests: n, Window: 24 * time.Hour}
	opts := pnw.Options{URL: b.game.URL, APIKey: botKey, Cache: kv.NewPostgresCache(b.st), Usage: kv.NewUsage(b.st), Allowance: kv.NewPostgresLimiter(b.st, bot.FixedRate(rate))}
	if backend == "redis" {
		rdb, prefix := storetest.NewRedis(t)
		opts.Cache, opts.Allowance = kv.NewRedisCache(rdb, prefix+"cache:"), kv.NewRedisLimiter(rdb, prefix, bot.FixedRate(rate))
	}
	game, err := pnw.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	b.client = game
	b.deps = build(wiring{Deps: commands.Deps{Store: b.st, Game: game, Keys: b.keys, Now: b.deps.Now}})
	b.router = b.deps.Router()
}

// TestLookupAllowance: one user looking up unknown ids and names is
// stopped by their daily allowance, told so, and still gets what is
// cached; everyone else still works.
func TestLookupAllowance(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"postgres", "redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			_, b := setup(t)
			withAllowance(t, b, backend, 3)
			for id := 900001; id <= 900003; id++ {
				_, err := b.serve(t, "nation", "nation", fmt.Sprint(id))
				require.ErrorContains(t, err, fmt.Sprintf("no nation with id %d", id))
			}
			requests := b.game.Requests()
			for _, query := range []string{"900004", "Nowhereland"} {
				_, err := b.serve(t, "nation", "nation", query)
				require.ErrorContains(t, err, "You have used today's allowance of game lookups the bot had not cached.")
				require.ErrorContains(t, err, "again <t:")
			}
			_, err := b.serve(t, "alliance_info", "alliance", "4041")
			require.ErrorContains(t, err, "You have used today's allowance")
			require.Equal(t, requests, b.game.Requests(), "a refused lookup sends no request")

			// What is cached still answers, unknown ids included.
			_, err = b.serve(t, "nation", "nation", "900001")
			require.ErrorContains(t, err, "no nation with id 900001")

			// Bob has his own allowance; what he caches Alice sees.
			require.Equal(t, "Aliceland", b.reply(t, "nation", "nation", "1001", "user", bobID).Embeds[0].Title)
			require.Equal(t, "Aliceland", b.reply(t, "nation", "nation", "1001").Embeds[0].Title)
			require.Equal(t, "Aliceland", b.reply(t, "nation", "nation", "Aliceland").Embeds[0].Title)
			require.Equal(t, requests+1, b.game.Requests())
		})
	}
}

// TestBudgetLow: when the bot's key has few requests left today, lookups
// serve cached data only, saying so, and refuse the rest clearly.
func TestBudgetLow(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	ctx := context.Background()
	require.Equal(t, "Aliceland", b.reply(t, "nation", "nation", "1001").Embeds[0].Title)

	// The game counts 900 of 1,000 requests after the next: 10% are left.
	b.game.SetKeyLimit(botKey, 1000, 899)
	require.Equal(t, "Bobistan", b.reply(t, "nation", "nation", "1002").Embeds[0].Title)
	budgets := b.client.KeyBudgets()
	require.Len(t, budgets, 1)
	require.True(t, budgets[0].Own)
	require.Equal(t, 100, budgets[0].Remaining)
	require.Equal(t, 1000, budgets[0].Limit)
	require.True(t, budgets[0].Low())
	requests := b.game.Requests()

	// Aliceland's card is past its freshness: it is served from the cache,
	// with why.
	_, err := b.st.Pool.Exec(ctx, `UPDATE pnw_data_cache SET data = jsonb_set(data, '{fresh_until}', '"2000-01-01T00:00:00Z"') WHERE cache_key LIKE '%nation:1001'`)
	require.NoError(t, err)
	e := b.reply(t, "nation", "nation", "1001").Embeds[0]
	require.Equal(t, "Aliceland", e.Title)
	require.Contains(t, e.Description, "The bot has nearly used up today's game API requests and answers from its cache only: this is cached data from <t:")

	// Fresh data is served as usual; anything not cached is refused.
	require.Equal(t, "Bobistan", b.reply(t, "nation", "nation", "1002").Embeds[0].Title)
	_, err = b.serve(t, "nation", "nation", "1003")
	require.ErrorContains(t, err, "The bot has nearly used up today's game API requests, so it answers from its cache only until <t:")
	_, err = b.serve(t, "nation", "nation", "Somewhere")
	require.ErrorContains(t, err, "answers from its cache only")
	require.Equal(t, requests, b.game.Requests())
}

// TestUsageShowsEachUsersSpend: every request a user's lookups spend is in
// the usage log on their account, made for it if they had none.
func TestUsageShowsEachUsersSpend(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	ctx := context.Background()
	_, err := b.link(t, aliceID, aliceKey)
	require.NoError(t, err)
	for _, id := range []string{"1002", "900001", "900002"} {
		_, _ = b.serve(t, "nation", "nation", id)
	}
	b.reply(t, "nation", "nation", "1002") // cached

	// Bob has never used the bot: his first lookup that spends makes his
	// account.
	_, err = b.st.UserGetByDiscordID(ctx, bobID)
	require.ErrorIs(t, err, store.ErrNotFound)
	b.reply(t, "nation", "nation", "1003", "user", bobID)
	b.reply(t, "nation", "nation", "1003", "user", bobID) // cached
	require.NoError(t, b.client.Close(ctx))

	spent := func(discordID string) int64 {
		t.Helper()
		u := b.user(t, discordID)
		n, err := b.st.APIUsageLogCountUpstream(ctx, store.APIUsageLogCountUpstreamParams{UserID: &u.ID, Since: b.now.Add(-time.Hour)})
		require.NoError(t, err)
		return n
	}
	require.Equal(t, int64(3), spent(aliceID), "three lookups that missed the cache")
	require.Equal(t, int64(1), spent(bobID))
	require.Equal(t, "user.create", b.auditActions(t)[0].Action)
}

// TestOneUserDailySpend is issue 8's probe: one user looking up a new
// unknown id with every command. Each used to cost the bot's key a request,
// so at the command rate limit (30 a minute) one user could spend 43,200 a
// day; now a day's spend stops at the allowance, whatever the commands.
func TestOneUserDailySpend(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	withAllowance(t, b, "redis", settings.DefaultUserLookupsPerDay)
	const commands = 4 * settings.DefaultUserLookupsPerDay
	for i := range commands {
		query := fmt.Sprint(900000 + i)
		if i%2 == 1 {
			query = fmt.Sprintf("Nowhere %d", i)
		}
		_, err := b.serve(t, "nation", "nation", query)
		require.Error(t, err)
	}
	spent := b.game.Requests()
	t.Logf("one user, %d commands each looking up something unknown: %d requests of the bot's key", commands, spent)
	require.Equal(t, settings.DefaultUserLookupsPerDay, spent)
}
