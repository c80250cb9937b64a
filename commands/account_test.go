package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/store"
)

// deleteButton runs /delete-account and returns the confirm button's custom_id.
func deleteButton(t *testing.T, b *testBundle, user string) string {
	t.Helper()
	resp := b.reply(t, "delete_account", "user", user)
	require.True(t, resp.Ephemeral)
	buttons := resp.Components[0].(discordgo.ActionsRow).Components
	confirm := buttons[0].(discordgo.Button)
	require.Equal(t, discordgo.DangerButton, confirm.Style)
	require.True(t, strings.HasPrefix(confirm.CustomID, "account/delete/"))
	require.LessOrEqual(t, len(confirm.CustomID), 100)
	return confirm.CustomID
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ConfirmDeletesEverythingPersonal", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		alice := b.user(t, aliceID)
		a, err := b.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
		require.NoError(t, err)
		// A manager, not its only admin (TestNoAllianceWithoutAdmin).
		_, err = b.st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: alice.ID, AllianceID: a.ID, Role: "manager", Permissions: []byte(`{}`)})
		require.NoError(t, err)

		resp := b.reply(t, "button", "custom_id", deleteButton(t, b, aliceID))
		require.Equal(t, bot.TypeUpdate, resp.Type)
		require.Contains(t, resp.Content, "deleted")
		require.Empty(t, resp.Components, "the buttons go away")

		_, err = b.st.UserGetByDiscordID(ctx, aliceID)
		require.ErrorIs(t, err, store.ErrNotFound)
		managers, err := b.st.AllianceManagerListByAlliance(ctx, a.ID)
		require.NoError(t, err)
		require.Empty(t, managers)

		audit := b.auditActions(t)
		require.Equal(t, "user.delete", audit[0].Action)
		for _, row := range audit {
			require.Nil(t, row.UserID, "audit rows keep the event without the person")
			if row.Action == "user.link" {
				require.Empty(t, row.ResourceID, "the nation id identifies the player")
				require.Nil(t, row.OldValues)
				require.Nil(t, row.NewValues)
			}
		}
		require.Contains(t, actions(audit), "user.link")
	})

	t.Run("CancelKeepsAccount", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		deleteButton(t, b, aliceID)
		resp := b.reply(t, "button", "custom_id", "account/cancel")
		require.Contains(t, resp.Content, "nothing was deleted")
		require.NotNil(t, b.user(t, aliceID).PnwApiKey)
	})

	t.Run("ExpiredButton", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		id := deleteButton(t, b, aliceID)
		b.now = b.now.Add(3 * time.Minute)
		resp := b.reply(t, "button", "custom_id", id)
		require.Contains(t, resp.Content, "expired")
		b.user(t, aliceID) // still there
	})

	t.Run("AnotherUsersButton", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		for user, key := range map[string]string{aliceID: aliceKey, bobID: bobKey} {
			_, err := b.link(t, user, key)
			require.NoError(t, err)
		}
		id := deleteButton(t, b, aliceID)
		resp := b.reply(t, "button", "custom_id", id, "user", bobID)
		require.Contains(t, resp.Content, "expired")
		b.user(t, aliceID)
		b.user(t, bobID)
	})

	t.Run("NoAccount", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		resp := b.reply(t, "delete_account")
		require.Contains(t, resp.Content, "nothing to delete")
		require.Empty(t, resp.Components)
	})
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)

	resp := b.reply(t, "preferences", "replies", "")
	require.Contains(t, resp.Content, "public")
	_, err := b.st.UserGetByDiscordID(ctx, aliceID)
	require.Error(t, err, "looking at the settings creates no account")

	resp = b.reply(t, "preferences", "replies", "private")
	require.True(t, resp.Ephemeral)
	require.Contains(t, resp.Content, "private")
	// A public command now answers Alice privately, and only her.
	require.True(t, b.reply(t, "nation", "nation", "1002").Ephemeral)
	require.False(t, b.reply(t, "nation", "nation", "1002", "user", bobID).Ephemeral)

	audit := b.auditActions(t)
	require.Equal(t, "user.preferences", audit[0].Action)
	require.JSONEq(t, `{"private": false, "audit_reminders": true, "share_nation": true}`, string(audit[0].OldValues))
	require.JSONEq(t, `{"private": true, "audit_reminders": true, "share_nation": true}`, string(audit[0].NewValues))

	// Keys this version does not know survive an update.
	_, err = b.st.Pool.Exec(ctx, `UPDATE users SET preferences = preferences || '{"theme": "dark"}'`)
	require.NoError(t, err)
	b.reply(t, "preferences", "replies", "public")
	require.False(t, b.reply(t, "nation", "nation", "1002").Ephemeral)
	require.JSONEq(t, `{"private": false, "audit_reminders": true, "share_nation": true, "theme": "dark"}`, string(b.user(t, aliceID).Preferences))

	// Without an option it only shows the setting.
	resp = b.reply(t, "preferences", "replies", "")
	require.Contains(t, resp.Content, "public")
	require.Len(t, b.auditActions(t), 3, "user.create and two changes; showing is no change")
}

func actions(rows []store.AuditLog) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Action
	}
	return out
}

// TestFirstContactRace: two interactions of a new user both find no account;
// the second to create it gets the row the first made.
func TestFirstContactRace(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	// Between the outer request's caller load (no account) and its
	// handler, another request of the same user creates the account.
	raced := false
	b.router.Use(func(next bot.Handler) bot.Handler {
		return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
			if !raced {
				raced = true
				require.Contains(t, b.reply(t, "preferences", "replies", "public").Content, "Saved")
			}
			return next(ctx, req)
		}
	})
	resp := b.reply(t, "preferences", "replies", "private")
	require.Contains(t, resp.Content, "Saved")
	require.True(t, raced)

	require.JSONEq(t, `{"private": true, "audit_reminders": true, "share_nation": true}`, string(b.user(t, aliceID).Preferences))
	var creates int
	for _, a := range b.auditActions(t) {
		if a.Action == "user.create" {
			creates++
		}
	}
	require.Equal(t, 1, creates)
}
