package commands_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

func TestMe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("NotLinked", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.serve(t, "me")
		require.ErrorContains(t, err, "Use /link")
	})

	t.Run("Profile", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		alice := b.user(t, aliceID)
		a, err := b.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
		require.NoError(t, err)
		_, err = b.st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: alice.ID, AllianceID: a.ID, Role: "manager", Permissions: []byte(`{}`)})
		require.NoError(t, err)
		require.NoError(t, b.bootstrap(ctx, []string{aliceID}))

		resp := b.reply(t, "me")
		require.True(t, resp.Ephemeral)
		text := embedText(resp.Embeds[0])
		for _, want := range []string{"Aliceland", "Alice", "Rose", "Officer", "Manager of [Rose]", "System super admin", "Stored encrypted, verified", "2 of 18 permissions", "Public"} {
			require.Contains(t, text, want)
		}
		require.NotContains(t, text, aliceKey)
	})

	t.Run("RevokedKey", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		// A check a day old is repeated; the game now refuses the key.
		_, err = b.st.Pool.Exec(ctx, `UPDATE users SET key_verified_at = now() - interval '25 hours'`)
		require.NoError(t, err)
		b.game.Fail(fakepnw.Failure{Status: 401, Times: 1})
		text := embedText(b.reply(t, "me").Embeds[0])
		require.Contains(t, text, "Refused by the game")
		require.Contains(t, text, "/link")
		require.NotNil(t, b.user(t, aliceID).KeyRevokedAt)
		require.Equal(t, "user.key_revoked", b.auditActions(t)[0].Action)

		// Relinking clears it.
		_, err = b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		require.Nil(t, b.user(t, aliceID).KeyRevokedAt)
	})

	t.Run("UnreadableKey", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		// A process running with another master key sealed it: the bot's
		// keys no longer open it.
		alice := b.user(t, aliceID)
		sealed, err := strangerKeyring(t).Seal(aliceKey, alice.KeySalt, secrets.NationKey(alice.ID))
		require.NoError(t, err)
		_, err = b.st.UserReplaceKey(ctx, store.UserReplaceKeyParams{ID: alice.ID, OldKey: alice.PnwApiKey, NewKey: sealed})
		require.NoError(t, err)

		text := embedText(b.reply(t, "me").Embeds[0])
		require.Contains(t, text, "API key: Stored, but unreadable")
		require.Contains(t, text, "Run /link")
		require.NotContains(t, text, "verified")
	})

	t.Run("RecheckRefreshesStatus", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		calls := b.game.RequestsFor("me")
		b.reply(t, "me")
		require.Equal(t, calls, b.game.RequestsFor("me"), "a fresh check is not repeated")

		_, err = b.st.Pool.Exec(ctx, `UPDATE users SET key_verified_at = now() - interval '25 hours'`)
		require.NoError(t, err)
		text := embedText(b.reply(t, "me").Embeds[0])
		require.Equal(t, calls+1, b.game.RequestsFor("me"))
		require.Contains(t, text, "Stored encrypted, verified")
		require.WithinDuration(t, time.Now(), *b.user(t, aliceID).KeyVerifiedAt, time.Minute)
		require.Equal(t, "user.key_checked", b.auditActions(t)[0].Action)
	})

	t.Run("GameDownStillAnswers", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		b.game.Fail(fakepnw.Failure{Status: 500})
		text := embedText(b.reply(t, "me").Embeds[0])
		require.Contains(t, text, "Nation 1001")
		require.Contains(t, text, "not answering")
	})
}

func TestNation(t *testing.T) {
	t.Parallel()

	t.Run("ByIDThenByName", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		resp := b.reply(t, "nation", "nation", "1001")
		require.False(t, resp.Ephemeral)
		e := resp.Embeds[0]
		require.Equal(t, "Aliceland", e.Title)
		require.Equal(t, "https://politicsandwar.com/nation/id=1001", e.URL)
		text := embedText(e)
		for _, want := range []string{"Leader: Alice", "[Rose](https://politicsandwar.com/alliance/id=77) · Officer", "Score: 2500.50", "Cities: 21",
			"Color: Purple", "150,000 soldiers", "12,500 tanks", "2 offensive · 0 defensive", "Last active: <t:"} {
			require.Contains(t, text, want)
		}

		// A name seen once resolves without asking the game for the name.
		requests := b.game.RequestsFor("nationsByName")
		require.Equal(t, "Aliceland", b.reply(t, "nation", "nation", "aliceland").Embeds[0].Title)
		require.Equal(t, requests, b.game.RequestsFor("nationsByName"))
	})

	t.Run("NamesWrittenWhenTheyChange", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		ctx := context.Background()
		seen := func() (name string, at time.Time) {
			t.Helper()
			require.NoError(t, b.st.Pool.QueryRow(ctx, "SELECT nation_name, seen_at FROM seen_nations WHERE nation_id = 1003").Scan(&name, &at))
			return name, at
		}
		b.reply(t, "nation", "nation", "1003")
		_, first := seen()

		// Seen again, unchanged: nothing is written.
		b.reply(t, "nation", "nation", "1003")
		_, at := seen()
		require.Equal(t, first, at)

		// Renamed in the game: the new name is written with the fresh data.
		b.game.AddNation(fakepnw.Nation{ID: 1003, NationName: "Aliciana", LeaderName: "Other"})
		require.NoError(t, b.client.InvalidateTag(ctx, pnw.NationTag(1003)))
		require.Equal(t, "Aliciana", b.reply(t, "nation", "nation", "1003").Embeds[0].Title)
		name, renamed := seen()
		require.Equal(t, "Aliciana", name)
		require.True(t, renamed.After(first))

		// Unchanged but last written long ago: written again.
		b.now = b.now.Add(time.Hour)
		b.reply(t, "nation", "nation", "1003")
		_, again := seen()
		require.True(t, again.After(renamed))
	})

	t.Run("NameNeverSeenAsksTheGame", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		require.Equal(t, "Bobistan", b.reply(t, "nation", "nation", "Bobistan").Embeds[0].Title)
		require.Equal(t, 1, b.game.RequestsFor("nationsByName"))
	})

	t.Run("UnknownNameSuggestsCloseOnes", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.reply(t, "nation", "nation", "1001")
		b.reply(t, "nation", "nation", "1003")
		_, err := b.serve(t, "nation", "nation", "Alicelnd")
		require.ErrorContains(t, err, `No nation is named "Alicelnd". Did you mean: Aliceland`)
		_, err = b.serve(t, "nation", "nation", "Zzyzx")
		require.ErrorContains(t, err, `No nation is named "Zzyzx". Check the spelling`)
	})

	t.Run("DefaultIsOwnNation", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.serve(t, "nation_default")
		require.ErrorContains(t, err, "use /link")
		_, err = b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		require.Equal(t, "Aliceland", b.reply(t, "nation_default").Embeds[0].Title)

		// The lookup is in the usage log, on Alice's account.
		require.NoError(t, b.client.Close(context.Background()))
		alice := b.user(t, aliceID)
		usage, err := b.st.APIUsageLogSummary(context.Background(), store.APIUsageLogSummaryParams{UserID: &alice.ID, Since: b.now.Add(-time.Minute)})
		require.NoError(t, err)
		var endpoints []string
		for _, u := range usage {
			endpoints = append(endpoints, u.Endpoint)
		}
		// The first key check came before the account existed.
		require.ElementsMatch(t, []string{"nationsByID"}, endpoints)
	})

	t.Run("ByDiscordUser", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.serve(t, "nation_user", "target", bobID)
		require.ErrorContains(t, err, "<@"+bobID+"> has not linked a nation")
		_, err = b.link(t, bobID, bobKey)
		require.NoError(t, err)
		require.Equal(t, "Bobistan", b.reply(t, "nation_user", "target", bobID).Embeds[0].Title)
	})

	// A member who turned share_nation off is not looked up by others:
	// refused privately, in the same words whether or not they linked a
	// nation, before any game request. They still look themselves up.
	t.Run("ByDiscordUserOnlyWhenShared", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		const carolID = "200000000000000003" // never links
		_, err := b.link(t, bobID, bobKey)
		require.NoError(t, err)
		for _, user := range []string{bobID, carolID} {
			resp, err := b.command(t, user, "/preferences", fakediscord.Option("share_nation", false))
			require.NoError(t, err)
			require.Contains(t, resp.Content, "Your linked nation is private")
		}
		requests := b.game.Requests()
		for _, user := range []string{bobID, carolID} {
			_, err = b.serve(t, "nation_user", "target", user)
			// A user error: the bot answers it privately.
			require.EqualError(t, err, "<@"+user+"> keeps their nation private.")
		}
		require.Equal(t, requests, b.game.Requests(), "a refusal costs no game request")
		var refused []string
		for _, r := range b.auditActions(t) {
			if r.Action == "permission.denied" && r.ResourceType == "nation_share" {
				require.False(t, r.Success)
				refused = append(refused, r.ResourceID)
			}
		}
		require.ElementsMatch(t, []string{strconv.FormatInt(b.user(t, bobID).ID, 10), strconv.FormatInt(b.user(t, carolID).ID, 10)}, refused,
			"each refusal is audited")

		require.Equal(t, "Bobistan", b.reply(t, "nation_user", "target", bobID, "user", bobID).Embeds[0].Title, "Bob looks himself up")
		_, err = b.command(t, bobID, "/preferences", fakediscord.Option("share_nation", true))
		require.NoError(t, err)
		require.Equal(t, "Bobistan", b.reply(t, "nation_user", "target", bobID).Embeds[0].Title)
	})

	t.Run("GameDownServesCachedDataWithItsAge", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.reply(t, "nation", "nation", "1001")
		// The cached copy is past its TTL, and the game is down.
		_, err := b.st.Pool.Exec(context.Background(),
			`UPDATE pnw_data_cache SET data = jsonb_set(data, '{fresh_until}', '"2000-01-01T00:00:00Z"')`)
		require.NoError(t, err)
		b.game.Fail(fakepnw.Failure{Status: 503})
		e := b.reply(t, "nation", "nation", "1001").Embeds[0]
		require.Equal(t, "Aliceland", e.Title)
		require.Contains(t, e.Description, "not answering: this is cached data from <t:")

		// With nothing cached, the user is told so.
		_, err = b.serve(t, "nation", "nation", "1002")
		require.ErrorContains(t, err, "not answering right now")
	})

	t.Run("EmptyGameFieldsAndHugeIDs", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.game.AddNation(fakepnw.Nation{ID: 2000, NationName: "Nameless"})
		text := embedText(b.reply(t, "nation", "nation", "2000").Embeds[0])
		require.Contains(t, text, "Leader: —", "Discord refuses an empty field value")
		require.Contains(t, text, "Color: —")

		requests := b.game.Requests()
		_, err := b.serve(t, "nation", "nation", "99999999999")
		require.ErrorContains(t, err, "No nation has id 99999999999")
		require.Equal(t, requests, b.game.Requests(), "an id past 32 bits would fail the whole merged query")
	})

	t.Run("TooLongName", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.serve(t, "nation", "nation", strings.Repeat("n", 101))
		require.ErrorContains(t, err, "too long")
		require.Zero(t, b.game.Requests())
	})

	t.Run("UnknownID", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.serve(t, "nation", "nation", "999999")
		require.ErrorContains(t, err, "no nation with id 999999")
	})

	t.Run("RateLimited", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.game.Fail(fakepnw.Failure{Status: 429})
		_, err := b.serve(t, "nation", "nation", "1002")
		require.ErrorContains(t, err, "limit is reached. Try again <t:")
	})

	t.Run("Autocomplete", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.reply(t, "nation", "nation", "1001")
		b.reply(t, "nation", "nation", "1002")
		b.reply(t, "nation", "nation", "1003")
		requests := b.game.Requests()

		resp := b.reply(t, "nation_autocomplete", "nation", "ali")
		require.Equal(t, bot.TypeChoices, resp.Type)
		var names []string
		for _, c := range resp.Choices {
			names = append(names, c.Name)
		}
		require.ElementsMatch(t, []string{"Aliceland (Alice)", "Alicia (Other)"}, names)
		require.Equal(t, "1001", choiceValue(resp, "Aliceland (Alice)"))
		require.Equal(t, requests, b.game.Requests(), "autocomplete must not call the game")

		require.Empty(t, b.reply(t, "nation_autocomplete", "nation", "qqq").Choices)
		require.Empty(t, b.reply(t, "nation_autocomplete", "nation", "%").Choices, "typed wildcards match literally")
		require.Empty(t, b.reply(t, "nation_autocomplete", "nation", "A_i").Choices)
	})
}

func choiceValue(resp *bot.Response, name string) any {
	for _, c := range resp.Choices {
		if c.Name == name {
			return c.Value
		}
	}
	return nil
}

func TestAllianceInfo(t *testing.T) {
	t.Parallel()

	t.Run("ByIDNameAndAcronym", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		e := b.reply(t, "alliance_info", "alliance", "77").Embeds[0]
		require.Equal(t, "Rose (Rose)", e.Title)
		text := embedText(e)
		for _, want := range []string{"Rank: #3", "Score: 123456.78", "Members: 1", "Color: Purple", "Recruiting: Yes"} {
			require.Contains(t, text, want)
		}
		require.Equal(t, "Rose (Rose)", b.reply(t, "alliance_info", "alliance", "rose").Embeds[0].Title)
	})

	t.Run("DefaultIsOwnAlliance", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		require.Equal(t, "Rose (Rose)", b.reply(t, "alliance_info_default").Embeds[0].Title)

		_, err = b.link(t, bobID, bobKey)
		require.NoError(t, err)
		_, err = b.serve(t, "alliance_info_default", "user", bobID)
		require.ErrorContains(t, err, "not in an alliance")
	})

	t.Run("UnknownName", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.reply(t, "alliance_info", "alliance", "77")
		_, err := b.serve(t, "alliance_info", "alliance", "Roze")
		require.ErrorContains(t, err, "Did you mean: Rose")
	})

	t.Run("Autocomplete", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.reply(t, "alliance_info", "alliance", "77")
		resp := b.reply(t, "alliance_autocomplete", "alliance", "ro")
		require.Len(t, resp.Choices, 1)
		require.Equal(t, "Rose (Rose)", resp.Choices[0].Name)
		require.Equal(t, "77", resp.Choices[0].Value)
	})
}
