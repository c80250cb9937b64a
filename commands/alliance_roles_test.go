package commands_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot/discordtest"
	"pnwbot/pnw/pnwtest"
)

const (
	memberRole  = "900000000000000001"
	officerRole = "900000000000000002"
	botRole     = "900000000000000009"
	highRole    = "900000000000000010"
	daveID      = "200000000000000009" // in the server, never linked
)

// rolesOnDiscord gives the bundle's commands a bot on a fake Discord whose
// server has the roles above (the bot's at position 5, highRole above it)
// and the bundle's users as members.
func (b *testBundle) rolesOnDiscord(t *testing.T) *discordtest.Fake {
	t.Helper()
	fake, bt := b.fakeDiscord(t)
	b.deps.Guilds = bt
	fake.AddRole(guild, guild, "@everyone", 0)
	fake.AddRole(guild, memberRole, "Rose", 2)
	fake.AddRole(guild, officerRole, "Rose government", 3)
	fake.AddRole(guild, botRole, "pnwbot", 5)
	fake.AddRole(guild, highRole, "Moderators", 7)
	fake.AddMember(guild, discordtest.BotUserID, botRole)
	return fake
}

func TestAllianceRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	a := b.setUp(t)
	fake := b.rolesOnDiscord(t)
	// Alice leads Rose; Bob applies to it; Carol left it for Thorn; Dave
	// never linked a nation.
	b.game.AddAlliance(pnwtest.Alliance{ID: thorn, Name: "Thorn"})
	b.game.AddNation(pnwtest.Nation{ID: bobNation, NationName: "Bobistan", AllianceID: rose, AlliancePosition: "APPLICANT"})
	b.game.AddNation(pnwtest.Nation{ID: carolNat, NationName: "Carolina", AllianceID: thorn})
	fake.AddMember(guild, aliceID)
	fake.AddMember(guild, bobID, memberRole)
	fake.AddMember(guild, carolID, memberRole, officerRole)
	fake.AddMember(guild, daveID, memberRole)

	_, err := b.command(t, aliceID, "/alliance/sync")
	require.ErrorContains(t, err, "choose them with /alliance roles")

	b.manage(t, a, bobID, access.Manager, nil)
	_, err = b.command(t, bobID, "/alliance/roles", discordtest.Option("member-role", memberRole), discordtest.Option("officer-role", officerRole))
	require.ErrorContains(t, err, "missing canManageSettings")

	resp, err := b.command(t, aliceID, "/alliance/roles", discordtest.Option("member-role", memberRole), discordtest.Option("officer-role", officerRole))
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
	n, err := b.deps.SyncAllRoles(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, changes, fake.RoleChanges(), "in step with the game: nothing to change")

	// A role above the bot's is reported, never attempted.
	resp, err = b.command(t, aliceID, "/alliance/roles", discordtest.Option("member-role", memberRole), discordtest.Option("officer-role", highRole))
	require.NoError(t, err)
	require.Contains(t, resp.Content, "is not below the bot's highest role")
	b.game.AddNation(pnwtest.Nation{ID: bobNation, NationName: "Bobistan", AllianceID: rose, AlliancePosition: "OFFICER"})
	require.NoError(t, b.client.InvalidateTag(ctx, "alliance:77"))
	resp, err = b.command(t, aliceID, "/alliance/sync")
	require.NoError(t, err)
	require.Contains(t, resp.Embeds[0].Description, "Given: 1 · Taken: 0")
	require.Contains(t, embedText(resp.Embeds[0]), "Not attempted: <@&"+highRole+"> is not below the bot's highest role")
	require.Equal(t, []string{memberRole}, fake.MemberRoles(guild, bobID), "Bob, now an officer, gets the member role only")
	require.Equal(t, []string{memberRole, officerRole}, fake.MemberRoles(guild, aliceID), "the old government role is no longer followed")
	require.Equal(t, changes+1, fake.RoleChanges(), "the high role was never attempted")
}
