package commands_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

func TestLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OpensModal", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		resp := b.reply(t, "link")
		require.Equal(t, bot.TypeModal, resp.Type)
		require.Equal(t, "link/submit", resp.CustomID)
		require.LessOrEqual(t, len(resp.Title), 45)
		row := resp.Components[0].(discordgo.ActionsRow)
		input := row.Components[0].(*discordgo.TextInput)
		require.True(t, input.Required, "discordgo sends false as optional")
		require.Equal(t, "api_key", input.CustomID)
		require.Zero(t, b.game.Requests(), "opening the modal must not call the game")
	})

	t.Run("StoresSealedKeyAndNamesNation", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		resp, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		require.True(t, resp.Ephemeral)
		require.Contains(t, resp.Content, "Aliceland")
		require.NotContains(t, resp.Content, aliceKey)

		u := b.user(t, aliceID)
		require.NotNil(t, u.PnwNationID)
		require.EqualValues(t, aliceNation, *u.PnwNationID)
		require.NotContains(t, string(u.PnwApiKey), aliceKey, "key stored in clear")
		plain, err := b.keys.Open(u.PnwApiKey, u.KeySalt, secrets.NationKey(u.ID))
		require.NoError(t, err)
		require.Equal(t, aliceKey, plain)
		require.NotNil(t, u.KeyVerifiedAt)
		var perms map[string]bool
		require.NoError(t, json.Unmarshal(u.KeyPermissions, &perms))
		require.True(t, perms["alliance_view_bank"])
		require.False(t, perms["alliance_withdraw_bank"])

		audit := b.auditActions(t)
		require.Len(t, audit, 2)
		require.Equal(t, "user.create", audit[1].Action, "first contact creates the account")
		require.Equal(t, "user.link", audit[0].Action)
		require.True(t, audit[0].Success)
		require.NotContains(t, string(audit[0].NewValues), aliceKey)
		require.Contains(t, string(audit[0].NewValues), "[redacted]")

		// A key check by a known account is in the usage log, on its name.
		_, err = b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		require.NoError(t, b.client.Close(ctx)) // flushes the usage log
		usage, err := b.st.APIUsageLogSummary(ctx, store.APIUsageLogSummaryParams{UserID: &u.ID, Since: b.now.Add(-time.Minute)})
		require.NoError(t, err)
		require.Len(t, usage, 1)
		require.Equal(t, "me", usage[0].Endpoint)

		// The nation's name is now known to autocomplete.
		seen, err := b.st.SeenNationByName(ctx, "aliceland")
		require.NoError(t, err)
		require.EqualValues(t, aliceNation, seen.NationID)
	})

	t.Run("BadInputChangesNothing", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		for _, key := range []string{"short", "has spaces in it!!", strings.Repeat("x", 65)} {
			_, err := b.link(t, aliceID, key)
			require.ErrorContains(t, err, "does not look like an API key")
		}
		_, err := b.st.UserGetByDiscordID(ctx, aliceID)
		require.Error(t, err, "no account is created for bad input")
		require.Zero(t, b.game.Requests(), "a malformed key must not cost a request")
	})

	t.Run("RefusedKey", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, "unknownkey0000000000")
		require.ErrorContains(t, err, "The game refused this key")
		require.ErrorContains(t, err, "Nothing was saved")
		require.NotContains(t, err.Error(), "unknownkey0000000000")
		_, err = b.st.UserGetByDiscordID(ctx, aliceID)
		require.Error(t, err, "a refused key creates no account")
		require.Empty(t, b.auditActions(t))
	})

	t.Run("GameDown", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.game.Fail(fakepnw.Failure{Status: 503})
		_, err := b.link(t, aliceID, aliceKey)
		require.ErrorContains(t, err, "not answering")
		require.ErrorContains(t, err, "Nothing was saved")
		_, err = b.st.UserGetByDiscordID(ctx, aliceID)
		require.Error(t, err, "nothing is saved while the game is down")
	})

	t.Run("NationOfAnotherUserRefused", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		// Bob holds a second key of Alice's nation: the first link stays.
		b.game.AddKey("secondkey00000000000", aliceNation)
		_, err = b.link(t, bobID, "secondkey00000000000")
		require.ErrorContains(t, err, "already linked to another Discord account")

		require.EqualValues(t, aliceNation, *b.user(t, aliceID).PnwNationID)
		bob := b.user(t, bobID)
		require.Nil(t, bob.PnwNationID)
		require.Nil(t, bob.PnwApiKey)
		audit := b.auditActions(t)
		require.Equal(t, "user.link", audit[0].Action)
		require.False(t, audit[0].Success)
		require.Equal(t, bob.ID, *audit[0].UserID)
	})

	t.Run("TwoAccountsRaceForOneNation", func(t *testing.T) {
		t.Parallel()
		// Whichever check catches the loser, the holder lookup or the
		// unique constraint, one account gets the nation and the other a
		// refusal.
		_, b := setup(t)
		b.game.AddKey("secondkey00000000000", aliceNation)
		start := make(chan struct{})
		errs := make(chan error, 2)
		for _, c := range []struct{ user, key string }{{aliceID, aliceKey}, {bobID, "secondkey00000000000"}} {
			i := interaction(t, "link_submit", "key", c.key, "user", c.user)
			go func() {
				<-start
				_, err := b.router.Serve(context.Background(), i)
				errs <- err
			}()
		}
		close(start)
		var refusals int
		for range 2 {
			if err := <-errs; err != nil {
				require.ErrorContains(t, err, "already linked to another Discord account")
				refusals++
			}
		}
		require.Equal(t, 1, refusals)
		var holders int
		for _, id := range []string{aliceID, bobID} {
			if u := b.user(t, id); u.PnwNationID != nil {
				require.EqualValues(t, aliceNation, *u.PnwNationID)
				holders++
			} else {
				require.Nil(t, u.PnwApiKey, "the refused key is not stored")
			}
		}
		require.Equal(t, 1, holders)
	})

	t.Run("RelinkSameNation", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		b.game.AddKey("alicenewkey000000000", aliceNation)
		_, err = b.link(t, aliceID, "alicenewkey000000000")
		require.NoError(t, err)
		u := b.user(t, aliceID)
		plain, err := b.keys.Open(u.PnwApiKey, u.KeySalt, secrets.NationKey(u.ID))
		require.NoError(t, err)
		require.Equal(t, "alicenewkey000000000", plain)
	})

	t.Run("PermissionDeniedIsAudited", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		_, err = b.st.Pool.Exec(ctx, `UPDATE users SET permissions = permissions || '{"canLinkApiKey": false}'`)
		require.NoError(t, err)
		before := b.game.Requests()

		_, err = b.link(t, aliceID, aliceKey)
		require.ErrorContains(t, err, "not allowed")
		_, err = b.serve(t, "unlink")
		require.ErrorContains(t, err, "not allowed")
		require.Equal(t, before, b.game.Requests())
		require.NotNil(t, b.user(t, aliceID).PnwApiKey, "a denied unlink changes nothing")

		audit := b.auditActions(t)
		require.Equal(t, "permission.denied", audit[0].Action)
		require.Equal(t, "permission.denied", audit[1].Action)
		require.Contains(t, string(audit[0].NewValues), "canLinkApiKey")
	})
}

func TestUnlink(t *testing.T) {
	t.Parallel()
	_, b := setup(t)

	_, err := b.serve(t, "unlink")
	require.ErrorContains(t, err, "Use /link", "no account yet")

	_, err = b.link(t, aliceID, aliceKey)
	require.NoError(t, err)
	resp := b.reply(t, "unlink")
	require.True(t, resp.Ephemeral)
	require.Contains(t, resp.Content, "key is deleted")
	u := b.user(t, aliceID)
	require.Nil(t, u.PnwApiKey)
	require.Nil(t, u.PnwNationID)
	require.Equal(t, "user.unlink", b.auditActions(t)[0].Action)

	resp = b.reply(t, "unlink")
	require.Contains(t, resp.Content, "nothing to unlink")

	// Once unlinked, the nation is free for another account.
	b.game.AddKey("secondkey00000000000", aliceNation)
	_, err = b.link(t, bobID, "secondkey00000000000")
	require.NoError(t, err)
}
