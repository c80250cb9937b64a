package commands_test

import (
	"context"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/store"
)

// as serves a slash command path such as "/admin/admins/grant" invoked by
// the Discord user id, with options as name, value pairs; a value of type
// *discordgo.User is a user option, resolved as Discord resolves it.
func (b *testBundle) as(t testing.TB, id, path string, args ...any) (*bot.Response, error) {
	t.Helper()
	var opts []*discordgo.ApplicationCommandInteractionDataOption
	resolved := &discordgo.ApplicationCommandInteractionDataResolved{Users: map[string]*discordgo.User{}}
	for i := 0; i+1 < len(args); i += 2 {
		name := args[i].(string)
		if u, ok := args[i+1].(*discordgo.User); ok {
			opts = append(opts, &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionUser, Value: u.ID})
			resolved.Users[u.ID] = u
			continue
		}
		opts = append(opts, fakediscord.Option(name, args[i+1]))
	}
	in := fakediscord.As(&discordgo.User{ID: id, Username: "u" + id[len(id)-2:]}, fakediscord.Command(path, opts...))
	d := in.Data.(discordgo.ApplicationCommandInteractionData)
	d.Resolved = resolved
	in.Data = d
	return b.router.Serve(context.Background(), in)
}

func discordUser(id string) *discordgo.User {
	return &discordgo.User{ID: id, Username: "u" + id[len(id)-2:]}
}

// level is the user's system admin row, or nil.
func (b *testBundle) level(t *testing.T, discordID string) *store.SystemAdmin {
	t.Helper()
	u, err := b.st.UserGetByDiscordID(context.Background(), discordID)
	if err != nil {
		return nil
	}
	a, err := b.st.SystemAdminGetByUser(context.Background(), u.ID)
	if err != nil {
		require.ErrorIs(t, err, store.ErrNotFound)
		return nil
	}
	return &a
}

const (
	superID = "200000000000000091"
	otherID = "200000000000000092"
)

func TestAdminBootstrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	require.NoError(t, b.bootstrap(ctx, []string{superID, otherID}))
	for _, id := range []string{superID, otherID} {
		a := b.level(t, id)
		require.Equal(t, access.LevelSuperAdmin, a.Level)
		require.True(t, a.Listed)
	}
	audits := len(b.auditActions(t))
	require.Equal(t, 2, audits)
	require.Equal(t, "admin.bootstrap", b.auditActions(t)[0].Action)
	require.NoError(t, b.bootstrap(ctx, []string{superID, otherID}))
	require.Len(t, b.auditActions(t), audits, "a start that changes nothing audits nothing")

	// A command grants the listed otherID admin and Bob admin.
	_, err := b.as(t, superID, "/admin/admins/grant", "user", discordUser(otherID), "level", "admin")
	require.NoError(t, err)
	require.Equal(t, access.LevelSuperAdmin, b.level(t, otherID).Level, "the list still makes them super admin")
	_, err = b.as(t, superID, "/admin/admins/grant", "user", discordUser(bobID), "level", "admin")
	require.NoError(t, err)

	// Taken off the list, otherID keeps what the command granted.
	require.NoError(t, b.bootstrap(ctx, []string{superID}))
	a := b.level(t, otherID)
	require.Equal(t, access.LevelAdmin, a.Level)
	require.False(t, a.Listed)
	require.Equal(t, "admin.unlist", b.auditActions(t)[0].Action)

	// Put on the list, Bob is super admin; off it, admin again.
	require.NoError(t, b.bootstrap(ctx, []string{superID, bobID}))
	require.Equal(t, access.LevelSuperAdmin, b.level(t, bobID).Level)
	require.NoError(t, b.bootstrap(ctx, []string{superID}))
	require.Equal(t, access.LevelAdmin, b.level(t, bobID).Level)

	// Only the list made superID an admin: off it, nothing is left.
	require.NoError(t, b.bootstrap(ctx, nil))
	require.Nil(t, b.level(t, superID))
	require.Equal(t, access.LevelAdmin, b.level(t, otherID).Level)
}

func TestAdminAdmins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	require.NoError(t, b.bootstrap(ctx, []string{superID}))

	t.Run("StrangerRefusedAndAudited", func(t *testing.T) {
		for _, path := range []string{"/admin/admins/list", "/admin/admins/grant"} {
			_, err := b.as(t, carolID, path, "user", discordUser(carolID), "level", "super_admin")
			require.ErrorContains(t, err, "missing canManageAdmins")
			d := b.denials(t)[0]
			require.Equal(t, "system", d.ResourceType)
			require.Equal(t, path, d.ResourceID)
			require.False(t, d.Success)
		}
		require.Nil(t, b.level(t, carolID))
	})

	t.Run("GrantListRevoke", func(t *testing.T) {
		_, err := b.as(t, superID, "/admin/admins/grant", "user", discordUser(aliceID), "level", "admin")
		require.NoError(t, err)
		require.Equal(t, access.LevelAdmin, b.level(t, aliceID).Level)
		require.Equal(t, "admin.grant", b.auditActions(t)[0].Action)

		_, err = b.as(t, aliceID, "/admin/admins/list")
		require.ErrorContains(t, err, "missing canManageAdmins", "an admin lacks canManageAdmins by default")

		resp, err := b.as(t, superID, "/admin/admins/list")
		require.NoError(t, err)
		text := embedText(resp.Embeds[0])
		require.Contains(t, text, "<@"+superID+"> · Super admin · from SUPER_ADMIN_DISCORD_IDS")
		require.Contains(t, text, "<@"+aliceID+"> · Admin")

		_, err = b.as(t, superID, "/admin/admins/permission", "user", discordUser(aliceID), "permission", "canManageAdmins", "value", true)
		require.NoError(t, err)
		_, err = b.as(t, aliceID, "/admin/admins/list")
		require.NoError(t, err, "granted canManageAdmins")

		_, err = b.as(t, aliceID, "/admin/admins/grant", "user", discordUser(bobID), "level", "super_admin")
		require.ErrorContains(t, err, "only a super admin")
		_, err = b.st.UserGetByDiscordID(ctx, bobID)
		require.ErrorIs(t, err, store.ErrNotFound, "a refused grant makes no account")
		refusal := b.auditActions(t)[0]
		require.Equal(t, "admin.grant", refusal.Action)
		require.False(t, refusal.Success)
		require.JSONEq(t, `{"reason": "only a super admin makes or unmakes a super admin", "discord_id": "`+bobID+`"}`, string(refusal.NewValues))
		_, err = b.as(t, aliceID, "/admin/admins/grant", "user", discordUser(bobID), "level", "admin")
		require.NoError(t, err, "an admin with canManageAdmins makes admins")

		_, err = b.as(t, superID, "/admin/admins/revoke", "user", discordUser(bobID))
		require.NoError(t, err)
		require.Nil(t, b.level(t, bobID))
		_, err = b.as(t, superID, "/admin/admins/revoke", "user", discordUser(bobID))
		require.ErrorContains(t, err, "not a system admin")
	})

	t.Run("LastSuperAdminStays", func(t *testing.T) {
		_, err := b.as(t, superID, "/admin/admins/revoke", "user", discordUser(superID))
		require.ErrorContains(t, err, "SUPER_ADMIN_DISCORD_IDS", "the list's grant is the list's")

		_, err = b.as(t, superID, "/admin/admins/grant", "user", discordUser(otherID), "level", "super_admin")
		require.NoError(t, err)
		require.NoError(t, b.bootstrap(ctx, nil)) // superID is off the list
		require.Nil(t, b.level(t, superID))

		_, err = b.as(t, otherID, "/admin/admins/revoke", "user", discordUser(otherID))
		require.ErrorContains(t, err, "the last super admin stays")
		require.Equal(t, access.LevelSuperAdmin, b.level(t, otherID).Level)
		_, err = b.as(t, otherID, "/admin/admins/grant", "user", discordUser(otherID), "level", "admin")
		require.ErrorContains(t, err, "the last super admin stays")
		last := b.auditActions(t)[0]
		require.Equal(t, "admin.grant", last.Action)
		require.False(t, last.Success)
	})
}

// TestAdminHiddenByDefault: /admin is registered shown only to members who
// may manage the server (Discord's default_member_permissions); the bot
// still refuses a Discord admin who is no system admin.
func TestAdminHiddenByDefault(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	d := b.onDiscord(t)
	var admin *discordgo.ApplicationCommand
	for _, c := range d.Commands("") {
		if c.Name == "admin" {
			admin = c
		}
	}
	require.NotNil(t, admin)
	require.NotNil(t, admin.DefaultMemberPermissions)
	require.Equal(t, int64(discordgo.PermissionManageGuild), *admin.DefaultMemberPermissions)

	i := fakediscord.WithPermissions(fakediscord.Command("/admin/alliances"), discordgo.PermissionAdministrator)
	_, err := b.router.Serve(context.Background(), i)
	require.Error(t, err, "Discord's permissions grant nothing in pnwbot")
}
