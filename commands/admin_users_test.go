package commands_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot/fakediscord"
	"pnwbot/store"
)

func TestAdminUsersAndAlliances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	a := b.setUp(t) // Rose, bound to the server, Alice its admin; Bob and Carol linked
	require.NoError(t, b.bootstrap(ctx, []string{superID}))

	t.Run("EachNeedsItsPermission", func(t *testing.T) {
		for path, perm := range map[string]string{
			"/admin/user": "canManageUsers", "/admin/user-permission": "canManageUsers", "/admin/alliances": "canManageAlliances",
			"/admin/alliance": "canManageAlliances", "/admin/assign": "canManageAlliances", "/admin/unassign": "canManageAlliances",
			"/admin/audit": "canViewAuditLogs", "/admin/config/list": "canManageSystem",
		} {
			_, err := b.as(t, carolID, path, "user", discordUser(bobID), "alliance", "Rose", "role", "admin", "permission", "canLinkApiKey", "value", false)
			require.ErrorContains(t, err, "missing "+perm, path)
			require.Equal(t, path, b.denials(t)[0].ResourceID)
		}
		// An admin whose canViewAuditLogs is taken away.
		_, err := b.as(t, superID, "/admin/admins/grant", "user", discordUser(bobID), "level", "admin")
		require.NoError(t, err)
		_, err = b.as(t, superID, "/admin/admins/permission", "user", discordUser(bobID), "permission", "canViewAuditLogs", "value", false)
		require.NoError(t, err)
		_, err = b.as(t, bobID, "/admin/audit")
		require.ErrorContains(t, err, "missing canViewAuditLogs")
		_, err = b.as(t, bobID, "/admin/alliances")
		require.NoError(t, err, "the rest of an admin's preset stays")
		_, err = b.as(t, superID, "/admin/admins/revoke", "user", discordUser(bobID))
		require.NoError(t, err)
	})

	t.Run("UserProfileNeverShowsTheKey", func(t *testing.T) {
		resp, err := b.as(t, superID, "/admin/user", "user", discordUser(aliceID))
		require.NoError(t, err)
		text := embedText(resp.Embeds[0])
		require.Contains(t, text, "Nation 1001")
		require.Contains(t, text, "Stored encrypted")
		require.Contains(t, text, "Admin of [Rose]")
		require.Contains(t, text, "✅ canLinkApiKey")
		require.Contains(t, text, "0 active")
		require.NotContains(t, text, aliceKey)
	})

	t.Run("UserPermissionCounts", func(t *testing.T) {
		_, err := b.as(t, superID, "/admin/user-permission", "user", discordUser(bobID), "permission", "canLinkApiKey", "value", false)
		require.NoError(t, err)
		_, err = b.link(t, bobID, bobKey)
		require.ErrorContains(t, err, "missing permission canLinkApiKey")
		require.Equal(t, "admin.user_permission", b.auditActions(t)[1].Action)
		_, err = b.as(t, superID, "/admin/user-permission", "user", discordUser(bobID), "permission", "canLinkApiKey", "value", false)
		require.ErrorContains(t, err, "already lacks")
		_, err = b.as(t, superID, "/admin/user-permission", "user", discordUser(bobID), "permission", "canEverything", "value", true)
		require.ErrorContains(t, err, "not a member permission")
	})

	t.Run("Alliances", func(t *testing.T) {
		resp, err := b.as(t, superID, "/admin/alliances")
		require.NoError(t, err)
		require.Contains(t, embedText(resp.Embeds[0]), "Rose (77): server "+guild+" · 1 managers · private · slug `rose`")

		_, err = b.as(t, superID, "/admin/assign", "alliance", "77", "user", discordUser(carolID), "role", "manager")
		require.NoError(t, err)
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, carolID).ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.Equal(t, access.Manager, m.Role)
		audit := b.auditActions(t)[0]
		require.Equal(t, "admin.assign", audit.Action)
		require.Equal(t, &a.ID, audit.AllianceID, "the alliance's own audit log shows it")

		resp, err = b.as(t, superID, "/admin/alliance", "alliance", "rose")
		require.NoError(t, err)
		text := embedText(resp.Embeds[0])
		require.Contains(t, text, "<@"+aliceID+"> · Admin")
		require.Contains(t, text, "<@"+carolID+"> · Manager")

		_, err = b.as(t, superID, "/admin/unassign", "alliance", "Rose", "user", discordUser(carolID))
		require.NoError(t, err)
		_, err = b.as(t, superID, "/admin/unassign", "alliance", "Rose", "user", discordUser(carolID))
		require.ErrorContains(t, err, "does not manage Rose")
		_, err = b.as(t, superID, "/admin/alliance", "alliance", "Thorn")
		require.ErrorContains(t, err, "runs no alliance")
	})

	t.Run("AuditPaginatedAndFiltered", func(t *testing.T) {
		for i := range 9 {
			_, err := b.as(t, superID, "/admin/config/set", "key", fmt.Sprintf("test.k%d", i), "value", "1", "type", "number")
			require.NoError(t, err)
		}
		resp, err := b.as(t, superID, "/admin/audit", "action", "config.set", "user", discordUser(superID))
		require.NoError(t, err)
		require.Len(t, resp.Embeds[0].Fields, 8)
		require.Contains(t, resp.Embeds[0].Fields[0].Name, "config.set app_config test.k8")
		next := buttonID(t, resp, 1)

		_, err = b.router.Serve(ctx, fakediscord.As(discordUser(carolID), fakediscord.Component(next)))
		require.ErrorContains(t, err, "Only the person who ran this command")
		page, err := b.router.Serve(ctx, fakediscord.As(discordUser(superID), fakediscord.Component(next)))
		require.NoError(t, err)
		require.Len(t, page.Embeds[0].Fields, 1)
		require.Contains(t, page.Embeds[0].Fields[0].Name, "test.k0")

		resp, err = b.as(t, superID, "/admin/audit", "alliance", "Rose", "action", "admin.assign")
		require.NoError(t, err)
		require.Len(t, resp.Embeds[0].Fields, 1)
		require.Contains(t, resp.Embeds[0].Fields[0].Value, "in Rose")

		resp, err = b.as(t, superID, "/admin/audit", "since", "2999-01-01")
		require.NoError(t, err)
		require.Equal(t, "Nothing recorded.", resp.Embeds[0].Description)
		_, err = b.as(t, superID, "/admin/audit", "since", "yesterday")
		require.ErrorContains(t, err, "as a date")
	})
}

// TestNoAllianceWithoutAdmin: neither /admin unassign nor /delete-account
// removes an alliance's last admin; with another admin, both do.
func TestNoAllianceWithoutAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	a := b.setUp(t) // Alice is Rose's only admin
	require.NoError(t, b.bootstrap(ctx, []string{superID}))

	_, err := b.as(t, superID, "/admin/unassign", "alliance", "Rose", "user", discordUser(aliceID))
	require.ErrorContains(t, err, "the only admin of Rose")
	resp := b.reply(t, "button", "custom_id", deleteButton(t, b, aliceID))
	require.Contains(t, resp.Content, "You are the only admin of Rose")
	alice := b.user(t, aliceID) // still there
	m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: alice.ID, AllianceID: a.ID})
	require.NoError(t, err)
	require.Equal(t, access.Admin, m.Role)
	require.Equal(t, "user.delete", b.auditActions(t)[0].Action)
	require.False(t, b.auditActions(t)[0].Success)

	// An admin without canManageSettings does not count.
	b.manage(t, a, bobID, access.Admin, map[access.Permission]bool{access.ManageSettings: false})
	_, err = b.as(t, superID, "/admin/unassign", "alliance", "Rose", "user", discordUser(aliceID))
	require.ErrorContains(t, err, "the only admin of Rose")

	b.manage(t, a, bobID, access.Admin, nil)
	_, err = b.as(t, superID, "/admin/unassign", "alliance", "Rose", "user", discordUser(aliceID))
	require.NoError(t, err)
	resp = b.reply(t, "button", "custom_id", deleteButton(t, b, bobID), "user", bobID)
	require.Contains(t, resp.Content, "only admin of Rose", "Bob is now the last one")
	b.manage(t, a, aliceID, access.Admin, nil)
	resp = b.reply(t, "button", "custom_id", deleteButton(t, b, bobID), "user", bobID)
	require.Contains(t, resp.Content, "every piece of personal data")
	_, err = b.st.UserGetByDiscordID(ctx, bobID)
	require.ErrorIs(t, err, store.ErrNotFound)
}
