package commands_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/pnw/fakepnw"
)

const warChannel = "900000000000000001"

func TestWarAlertsChannelAndOff(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	a := b.setUp(t)
	text := "0" // discordgo.ChannelTypeGuildText

	// A manager without canManageSettings is refused, audited, and nothing changes.
	b.manage(t, a, bobID, access.Manager, nil)
	_, err := b.in(t, "war_alerts_channel", "channel", warChannel, "kind", "defensive", "channel_type", text, "user", bobID)
	require.ErrorContains(t, err, "canManageSettings")
	require.NotEmpty(t, b.denials(t))
	channels, err := b.st.WarAlertChannelList(context.Background(), a.ID)
	require.NoError(t, err)
	require.Empty(t, channels)

	// A voice channel, or a ping on offensive alerts, is refused clearly.
	_, err = b.in(t, "war_alerts_channel", "channel", warChannel, "kind", "defensive", "channel_type", "2")
	require.ErrorContains(t, err, "text channel")
	_, err = b.in(t, "war_alerts_channel", "channel", warChannel, "kind", "offensive", "channel_type", text)
	require.ErrorContains(t, err, "Only defensive alerts ping a role")

	resp, err := b.in(t, "war_alerts_channel", "channel", warChannel, "kind", "defensive", "channel_type", text)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "Defensive alerts of Rose now go to <#"+warChannel+">, pinging <@&800000000000000001>")
	channels, err = b.st.WarAlertChannelList(context.Background(), a.ID)
	require.NoError(t, err)
	require.Len(t, channels, 1)
	require.Equal(t, warChannel, channels[0].ChannelID)
	require.Equal(t, "800000000000000001", *channels[0].PingRoleID)
	require.Equal(t, "war.alerts_set", b.auditActions(t)[0].Action)

	resp, err = b.in(t, "war_alerts_off", "kind", "defensive")
	require.NoError(t, err)
	require.Equal(t, "Defensive alerts of Rose are off.", resp.Content)
	require.Equal(t, "war.alerts_off", b.auditActions(t)[0].Action)
	channels, err = b.st.WarAlertChannelList(context.Background(), a.ID)
	require.NoError(t, err)
	require.Empty(t, channels)
	resp, err = b.in(t, "war_alerts_off", "kind", "defensive")
	require.NoError(t, err)
	require.Equal(t, "Defensive alerts of Rose were already off.", resp.Content)
}

func TestWarList(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	b.setUp(t)
	b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn"})
	b.game.AddNation(fakepnw.Nation{ID: 6001, NationName: "Thornland", AllianceID: thorn})
	b.game.AddWar(fakepnw.War{ID: 1, Date: time.Now(), WarType: "RAID", TurnsLeft: 40, AttID: aliceNation, AttAllianceID: rose, DefID: 6001,
		DefAllianceID: thorn, AttResistance: 90, DefResistance: 40})
	b.game.AddWar(fakepnw.War{ID: 2, Date: time.Now(), WarType: "ORDINARY", TurnsLeft: 10, AttID: 6001, AttAllianceID: thorn, DefID: bobNation,
		DefAllianceID: rose, AttResistance: 100, DefResistance: 70})

	resp, err := b.in(t, "war_list", "nation", strconv.Itoa(bobNation))
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "Active wars of Bobistan")
	require.Contains(t, text, "0 offensive · 1 defensive")
	require.Contains(t, text, "Thornland vs Bobistan")
	require.Contains(t, text, "10 turns left")
	require.Contains(t, text, "resistance 100 vs 70")
	require.NotContains(t, text, "Aliceland")

	resp, err = b.in(t, "war_list", "nation", "")
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "1 offensive · 1 defensive")
}

func TestWarCounters(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	b.setUp(t)
	b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn"})
	// Alice (score 2500.5, 2 of 5 offensive wars) can declare on 3000; Bob and Carol (score 0) cannot.
	b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "LEADER",
		Score: 2500.5, NumCities: 21, Soldiers: 150000, Tanks: 12500, Aircraft: 1500, Ships: 200, OffensiveWarsCount: 2})
	b.game.AddNation(fakepnw.Nation{ID: 6001, NationName: "Thornland", AllianceID: thorn, Score: 3000, Aircraft: 2000})
	b.game.AddWar(fakepnw.War{ID: 5, Date: time.Now(), TurnsLeft: 60, AttID: 6001, AttAllianceID: thorn, DefID: bobNation, DefAllianceID: rose})
	b.game.AddWar(fakepnw.War{ID: 6, Date: time.Now(), TurnsLeft: 60, AttID: 6001, AttAllianceID: thorn, DefID: 1003, DefAllianceID: 12})

	check := func(resp *bot.Response) {
		t.Helper()
		text := embedText(resp.Embeds[0])
		require.Contains(t, text, "Counters to Thornland")
		require.Contains(t, text, "members with score 1200.00 to 4000.00 can declare")
		require.Contains(t, text, "1. Aliceland")
		require.Contains(t, text, "<@"+aliceID+">")
		require.Contains(t, text, "2/5 offensive wars")
		require.NotContains(t, text, "Bobistan")
		require.Len(t, resp.Embeds[0].Fields, 1)
		button := resp.Components[0].(discordgo.ActionsRow).Components[0].(discordgo.Button)
		require.Equal(t, "war/room/5/add/"+aliceID, button.CustomID)
	}
	resp, err := b.in(t, "war_counters", "war", "5")
	require.NoError(t, err)
	check(resp)
	resp, err = b.in(t, "alliance_button", "custom_id", "war/counters/5", "permissions", "0")
	require.NoError(t, err)
	check(resp)

	_, err = b.in(t, "war_counters", "war", "6")
	require.ErrorContains(t, err, "War 6 is not a war of Rose's members.")

	// Bob holds no role: he may not see the alliance's wars.
	_, err = b.in(t, "war_counters", "war", "5", "user", bobID)
	require.ErrorContains(t, err, "canViewWars")
}
