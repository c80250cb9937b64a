package commands_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

const (
	memberRole  = "900000000000000001"
	officerRole = "900000000000000002"
	botRole     = "900000000000000009"
	highRole    = "900000000000000010"
	daveID      = "200000000000000009" // in the server, never linked
)

// rolesOnDiscord gives the bundle's commands a bot on a fake Discord whose
// server has the roles above (the bot's at position 5, highRole above it),
// owned by Alice.
func (b *testBundle) rolesOnDiscord(t *testing.T) *fakediscord.Fake {
	t.Helper()
	fake, rest := b.fakeDiscord(t)
	b.with(func(d *wiring) { d.Guilds = rest })
	fake.AddRole(guild, guild, "@everyone", 0)
	fake.AddRole(guild, memberRole, "Rose", 2)
	fake.AddRole(guild, officerRole, "Rose government", 3)
	fake.AddRole(guild, botRole, "pnwbot", 5)
	fake.AddRole(guild, highRole, "Moderators", 7)
	fake.AddMember(guild, fakediscord.BotUserID, botRole)
	fake.SetOwner(guild, aliceID)
	return fake
}

// chooseRoles runs /alliance roles as user, who holds Manage Roles on
// Discord and these roles in the server.
func (b *testBundle) chooseRoles(t *testing.T, user, member, officer string, roles ...string) (*bot.Response, error) {
	t.Helper()
	i := fakediscord.As(&discordgo.User{ID: user, Username: user}, fakediscord.Command("/alliance/roles",
		fakediscord.Option("member-role", member), fakediscord.Option("officer-role", officer)))
	i.GuildID, i.Member.GuildID, i.Member.Roles = guild, guild, roles
	return b.router.Serve(context.Background(), fakediscord.WithPermissions(i, discordgo.PermissionManageRoles))
}

func TestAllianceRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	a := b.setUp(t)
	fake := b.rolesOnDiscord(t)
	// Alice leads Rose; Bob applies to it; Carol left it for Thorn; Dave
	// never linked a nation.
	b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn"})
	b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", AllianceID: rose, AlliancePosition: "APPLICANT"})
	b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", AllianceID: thorn})
	fake.AddMember(guild, aliceID)
	fake.AddMember(guild, bobID, memberRole)
	fake.AddMember(guild, carolID, memberRole, officerRole)
	fake.AddMember(guild, daveID, memberRole)

	_, err := b.command(t, aliceID, "/alliance/sync")
	require.ErrorContains(t, err, "choose them with /alliance roles")

	b.manage(t, a, bobID, access.Manager, nil)
	_, err = b.chooseRoles(t, bobID, memberRole, officerRole)
	require.ErrorContains(t, err, "missing canManageSettings")

	resp, err := b.chooseRoles(t, aliceID, memberRole, officerRole)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "Stored")
	require.NotContains(t, resp.Content, "⚠️")
	require.Equal(t, "alliance.roles", b.auditActions(t)[0].Action)

	resp, err = b.command(t, aliceID, "/alliance/sync")
	require.NoError(t, err)
	require.Contains(t, resp.Embeds[0].Description, "Given: 2 · Taken: 3")
	require.Equal(t, []string{memberRole, officerRole}, fake.MemberRoles(guild, aliceID), "the leader is a member and in government")
	require.Empty(t, fake.MemberRoles(guild, bobID), "an applicant is not a member")
	require.Empty(t, fake.MemberRoles(guild, carolID), "she left the alliance")
	require.Equal(t, []string{memberRole}, fake.MemberRoles(guild, daveID), "an unlinked user is left alone")
	require.Equal(t, "alliance.role_sync", b.auditActions(t)[0].Action)

	changes := fake.RoleChanges()
	n, err := b.deps.Roles.SyncAll(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, changes, fake.RoleChanges(), "in step with the game: nothing to change")

	// A role above the bot's is reported, never attempted.
	resp, err = b.chooseRoles(t, aliceID, memberRole, highRole)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "is not below the bot's highest role")
	b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", AllianceID: rose, AlliancePosition: "OFFICER"})
	require.NoError(t, b.client.InvalidateTag(ctx, "alliance:77"))
	resp, err = b.command(t, aliceID, "/alliance/sync")
	require.NoError(t, err)
	require.Contains(t, resp.Embeds[0].Description, "Given: 1 · Taken: 0")
	require.Contains(t, embedText(resp.Embeds[0]), "Not attempted: <@&"+highRole+"> is not below the bot's highest role")
	require.Equal(t, []string{memberRole}, fake.MemberRoles(guild, bobID), "Bob, now an officer, gets the member role only")
	require.Equal(t, []string{memberRole, officerRole}, fake.MemberRoles(guild, aliceID), "the old government role is no longer followed")
	require.Equal(t, changes+1, fake.RoleChanges(), "the high role was never attempted")
}

// TestAllianceRolesDiscordPower: the bot hands out no Discord-side power
// Discord would not give the caller: /alliance roles needs Manage Roles on
// Discord, refuses roles with moderation or admin permissions (and sync
// skips a role that gained one since), and sync takes a role only from a
// linked user whose nation it sees outside the alliance.
func TestAllianceRolesDiscordPower(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	a := b.setUp(t)
	fake := b.rolesOnDiscord(t)
	fake.AddMember(guild, aliceID)

	// canManageSettings alone is not enough: Discord would not let Alice
	// hand out roles either.
	_, err := b.command(t, aliceID, "/alliance/roles", fakediscord.Option("member-role", memberRole), fakediscord.Option("officer-role", officerRole))
	require.ErrorContains(t, err, "needs Discord's Manage Roles permission")
	denial := b.denials(t)[0]
	require.Equal(t, &a.ID, denial.AllianceID)
	require.Contains(t, string(denial.NewValues), "discord:Manage Roles")
	require.Equal(t, map[string]any{}, settingsOf(t, b, a), "nothing stored")

	// Roles with power are refused, each permission by name.
	for _, p := range []struct {
		bit  int64
		name string
	}{{discordgo.PermissionAdministrator, "Administrator"}, {discordgo.PermissionManageGuild, "Manage Server"},
		{discordgo.PermissionManageRoles, "Manage Roles"}, {discordgo.PermissionManageChannels, "Manage Channels"},
		{discordgo.PermissionManageWebhooks, "Manage Webhooks"}, {discordgo.PermissionBanMembers, "Ban Members"},
		{discordgo.PermissionKickMembers, "Kick Members"}, {discordgo.PermissionModerateMembers, "Moderate Members"},
		{discordgo.PermissionMentionEveryone, "Mention Everyone"}} {
		fake.SetRolePermissions(guild, officerRole, discordgo.PermissionSendMessages|p.bit)
		_, err = b.chooseRoles(t, aliceID, memberRole, officerRole)
		require.ErrorContains(t, err, "carries "+p.name, p.name)
		require.Equal(t, map[string]any{}, settingsOf(t, b, a), "nothing stored")
	}

	fake.SetRolePermissions(guild, officerRole, discordgo.PermissionSendMessages)
	_, err = b.chooseRoles(t, aliceID, memberRole, officerRole)
	require.NoError(t, err)
	// The officer role gains Kick Members afterwards: sync never gives it.
	fake.SetRolePermissions(guild, officerRole, discordgo.PermissionKickMembers)
	resp, err := b.command(t, aliceID, "/alliance/sync")
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "carries Kick Members, which the bot never hands out")
	require.Equal(t, []string{memberRole}, fake.MemberRoles(guild, aliceID), "the officer role is not given")

	// Dave holds the member role; he linked a nation the game no longer
	// shows (deleted): the bot cannot see where he is, so he keeps it.
	// Eve, unlinked, keeps hers whatever the game says.
	const eveID = "200000000000000010"
	dave, err := b.st.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: daveID, DiscordUsername: "dave", KeySalt: []byte("0123456789abcdef")})
	require.NoError(t, err)
	gone := int64(1999)
	_, err = b.st.UserLinkNation(ctx, store.UserLinkNationParams{ID: dave.ID, PnwNationID: &gone})
	require.NoError(t, err)
	fake.AddMember(guild, daveID, memberRole)
	fake.AddMember(guild, eveID, memberRole)
	resp, err = b.command(t, aliceID, "/alliance/sync")
	require.NoError(t, err)
	require.Contains(t, resp.Embeds[0].Description, "Kept: 1")
	require.Equal(t, []string{memberRole}, fake.MemberRoles(guild, daveID), "nation not seen: kept")
	require.Equal(t, []string{memberRole}, fake.MemberRoles(guild, eveID), "unlinked: untouched")
	var pass struct{ Kept []string }
	require.NoError(t, json.Unmarshal(b.auditActions(t)[0].NewValues, &pass))
	require.Equal(t, []string{daveID + ":" + memberRole}, pass.Kept, "the audit row says what was kept")
}

// TestAllianceRolesBelowCaller: as Discord when a member gives a role, a
// caller with Manage Roles chooses only roles below their own highest role;
// the server's owner chooses any. A refusal is audited and stores nothing.
func TestAllianceRolesBelowCaller(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	a := b.setUp(t)
	fake := b.rolesOnDiscord(t)
	const staffRole = "900000000000000003"
	fake.AddRole(guild, staffRole, "Staff", 4)
	fake.AddMember(guild, aliceID)
	fake.AddMember(guild, bobID, memberRole)
	b.manage(t, a, bobID, access.Admin, nil)

	// Bob's highest role is the member role (2): it and the officer role
	// (3) are not below it.
	for _, held := range [][]string{nil, {memberRole}, {memberRole, officerRole}} {
		_, err := b.chooseRoles(t, bobID, memberRole, officerRole, held...)
		require.ErrorContains(t, err, "is not below your highest role in this server", "Bob holds %v", held)
		require.Equal(t, map[string]any{}, settingsOf(t, b, a), "nothing stored")
	}
	denial := b.denials(t)[0]
	require.Equal(t, &a.ID, denial.AllianceID)
	require.Contains(t, string(denial.NewValues), "discord:role above "+officerRole)

	// Staff (4) is above both: Bob chooses them; not the high role (7).
	_, err := b.chooseRoles(t, bobID, memberRole, officerRole, memberRole, staffRole)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"member_role": memberRole, "officer_role": officerRole}, settingsOf(t, b, a))
	_, err = b.chooseRoles(t, bobID, memberRole, highRole, memberRole, staffRole)
	require.ErrorContains(t, err, "<@&"+highRole+"> is not below your highest role")

	// Alice owns the server: Discord lets her give any role, so may she.
	resp, err := b.chooseRoles(t, aliceID, memberRole, highRole)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "Stored")
}

func settingsOf(t *testing.T, b *testBundle, a store.Alliance) map[string]any {
	t.Helper()
	cur, err := b.st.AllianceGetByID(context.Background(), a.ID)
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal(cur.Settings, &s))
	return s
}
