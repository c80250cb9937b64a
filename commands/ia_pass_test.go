package commands_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/commands"
	"pnwbot/ia"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

const auditChannel = "400000000000000001"

// reporting is audited with every rule, the report channel set at this
// hour, and the bot able to post there and DM.
func reporting(t *testing.T) (*testBundle, store.Alliance, *fakediscord.Fake) {
	t.Helper()
	b, a, fake := audited(t)
	fake.AddChannel(guild, auditChannel, "audit")
	b.allRules(t)
	resp, err := b.command(t, aliceID, "/audit/channel", fakediscord.Option("channel", auditChannel))
	require.NoError(t, err)
	require.Contains(t, resp.Content, fmt.Sprintf("<#%s> at %02d:00 UTC", auditChannel, b.now.UTC().Hour()))
	return b, a, fake
}

func (b *testBundle) pass(t *testing.T) ia.Done {
	t.Helper()
	did, err := b.deps.IA.Pass(context.Background())
	require.NoError(t, err)
	return did
}

func TestAuditReport(t *testing.T) {
	t.Parallel()
	b, a, fake := reporting(t)
	// Carol turns her reminders off; Bob keeps the default.
	resp, err := b.command(t, carolID, "/preferences", fakediscord.Option("audit_reminders", false))
	require.NoError(t, err)
	require.Contains(t, resp.Content, "no audit reminders")

	did := b.pass(t)
	require.Equal(t, 1, did.Reports)
	msgs := fake.ChannelMessages(auditChannel)
	require.Len(t, msgs, 1)
	e := msgs[0].Embeds[0]
	require.Equal(t, "Daily audit of Rose · "+b.now.UTC().Format("2006-01-02"), e.Title)
	require.Contains(t, e.Description, "**4** failing · **2** passing")
	require.Contains(t, e.Description, "MMR 5/5/5/2.9, rule 5/5/5/3")
	require.Contains(t, e.Description, "inactive 4 days, rule 3")

	bob := fake.DMs(bobID)
	require.Len(t, bob, 1, "one DM listing every rule failed")
	require.Contains(t, bob[0].Content, "Bobistan fails")
	require.Contains(t, bob[0].Content, "MMR 5/5/5/2.9, rule 5/5/5/3")
	require.Contains(t, bob[0].Content, "military ships 49%, rule 50%")
	require.Empty(t, fake.DMs(carolID), "Carol turned audit reminders off")
	require.Empty(t, fake.DMs(aliceID), "Alice passes")
	require.Equal(t, 1, did.Reminders)

	// Later the same day: nothing again.
	b.pass(t)
	require.Len(t, fake.ChannelMessages(auditChannel), 1)
	require.Len(t, fake.DMs(bobID), 1)

	// The next day, two replicas pass at once: one report, one reminder.
	b.now = b.now.Add(24 * time.Hour)
	other := build(wiring{Deps: commands.Deps{Store: b.st, Game: b.client, Keys: b.keys, Now: b.deps.Now, DM: b.deps.DM, Channels: b.deps.Channels}, Guilds: b.built.Guilds})
	var wg sync.WaitGroup
	for _, d := range []*commands.Deps{b.deps, other} {
		wg.Go(func() {
			_, err := d.IA.Pass(context.Background())
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Len(t, fake.ChannelMessages(auditChannel), 2)
	require.Len(t, fake.DMs(bobID), 2)

	t.Run("NotYetDue", func(t *testing.T) {
		if b.now.UTC().Hour() == 23 {
			t.Skip("no later hour today")
		}
		_, err := b.command(t, aliceID, "/audit/channel", fakediscord.Option("channel", auditChannel), fakediscord.Option("hour", b.now.UTC().Hour()+1))
		require.NoError(t, err)
		b.now = b.now.Add(24 * time.Hour)
		require.Zero(t, b.pass(t).Reports)
		b.now = b.now.Add(time.Hour)
		require.Equal(t, 1, b.pass(t).Reports)
	})

	t.Run("Refusals", func(t *testing.T) {
		b.manage(t, a, bobID, "manager", nil)
		_, err := b.command(t, bobID, "/audit/channel", fakediscord.Option("channel", auditChannel))
		require.ErrorContains(t, err, "missing canManageSettings")
		_, err = b.command(t, bobID, "/audit/automation/inactive-bracket", fakediscord.Option("days", 7), fakediscord.Option("bracket", 12))
		require.ErrorContains(t, err, "missing canManageMembers")
		require.Contains(t, string(b.denials(t)[0].NewValues), "/audit/automation/inactive-bracket")
	})
}

// TestAuditEconomy: a report on a 300-member alliance with every rule
// costs two game requests, the members and their cities.
func TestAuditEconomy(t *testing.T) {
	t.Parallel()
	b, _, fake := reporting(t)
	for i := range 294 {
		b.game.AddNation(fakepnw.Nation{ID: 3000 + i, NationName: "Member " + strconv.Itoa(i), AllianceID: rose, Color: "purple",
			NumCities: 10, Cities: tenCities(3), Soldiers: 150000, Tanks: 12500, Aircraft: 750, Ships: 150, LastActive: b.now})
	}
	require.NoError(t, b.client.InvalidateTag(context.Background(), "alliance:77"))
	before := b.game.Requests()
	require.Equal(t, 1, b.pass(t).Reports)
	require.Equal(t, 2, b.game.Requests()-before, "members and cities, one request each")
	// They never linked their nations.
	report := fake.ChannelMessages(auditChannel)[0].Embeds[0].Description
	require.Contains(t, report, "**298** failing · **2** passing")
	require.Contains(t, report, "more: /audit run lists them all.")
	require.LessOrEqual(t, len(report), 4096)
}

func TestAuditAutomation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, a, fake := reporting(t)
	resp, err := b.command(t, aliceID, "/audit/automation/inactive-bracket", fakediscord.Option("days", 7), fakediscord.Option("bracket", 12))
	require.NoError(t, err)
	require.Contains(t, resp.Content, "inactive 7 days or more move to tax bracket 12")
	// The game's clock is the real one: the pass sees it.
	fresh := func() {
		require.NoError(t, b.client.InvalidateTag(ctx, "alliance:77"))
		b.now = time.Now()
	}

	// Bob goes inactive for 8 days: moved, posted with an Undo button.
	b.game.SetInactiveDays(bobNation, 8)
	fresh()
	did := b.pass(t)
	require.Equal(t, 1, did.Moved)
	require.Equal(t, 12, b.game.Nation(bobNation).TaxID)
	move := b.auditRow(t, "audit.bracket_move")
	require.JSONEq(t, `{"tax_bracket": "11"}`, string(move.OldValues))
	require.JSONEq(t, `{"tax_bracket": "12", "reason": "inactive"}`, string(move.NewValues))
	msgs := fake.ChannelMessages(auditChannel)
	posted := msgs[len(msgs)-1]
	require.Contains(t, posted.Content, "**Bobistan** has been inactive 8 days: moved from tax bracket 11 to 12.")
	undo := posted.Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.Button)
	require.Equal(t, "Undo", undo.Label)

	// A second pass moves nobody again.
	fresh()
	require.Zero(t, b.pass(t).Moved)

	// Bob (a manager without canManageMembers) may not undo; Alice may.
	b.manage(t, a, bobID, "viewer", nil)
	_, err = b.click(t, undo.CustomID, bobID)
	require.ErrorContains(t, err, "missing canManageMembers")
	resp, err = b.click(t, undo.CustomID)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "nation 1002 is back in tax bracket 11")
	require.Equal(t, 11, b.game.Nation(bobNation).TaxID)
	undone := b.auditRow(t, "audit.bracket_undo")
	require.JSONEq(t, `{"tax_bracket": "12"}`, string(undone.OldValues))
	resp, err = b.click(t, undo.CustomID)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "already back")
	fresh()
	require.Zero(t, b.pass(t).Moved, "undone by hand: left alone while still away")

	// Carol goes away 10 days, is moved, then comes back: moved back.
	b.game.SetInactiveDays(carolNat, 10)
	fresh()
	require.Equal(t, 1, b.pass(t).Moved)
	require.Equal(t, 12, b.game.Nation(carolNat).TaxID)
	b.game.SetInactiveDays(carolNat, 0)
	fresh()
	require.Equal(t, 1, b.pass(t).Restored)
	require.Equal(t, 11, b.game.Nation(carolNat).TaxID)
	restored := b.auditRow(t, "audit.bracket_restore")
	require.JSONEq(t, `{"tax_bracket": "11", "reason": "active"}`, string(restored.NewValues))

	// The key is revoked: the automation stops and the admins hear it once.
	b.game.RevokeKey(aliceKey)
	b.game.SetInactiveDays(carolNat, 10)
	fresh()
	did = b.pass(t)
	require.Equal(t, 1, did.Stopped)
	require.Equal(t, 11, b.game.Nation(carolNat).TaxID)
	stopped := fake.DMs(aliceID)
	require.NotEmpty(t, stopped)
	require.Contains(t, stopped[len(stopped)-1].Content, "automation of **Rose** stopped")
	fresh()
	b.pass(t)
	require.Len(t, fake.DMs(aliceID), len(stopped), "told once")
	row, err := b.st.AuditAutomationGet(ctx, a.ID)
	require.NoError(t, err)
	require.NotNil(t, row.StoppedAt)
}

// TestAuditVacationMode: a member in vacation mode is away by design. Carol
// (red, ten days away) goes on vacation: the report, her reminder and the
// inactive-bracket automation leave her alone until she is back.
func TestAuditVacationMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, _, fake := reporting(t)
	_, err := b.command(t, aliceID, "/audit/automation/inactive-bracket", fakediscord.Option("days", 7), fakediscord.Option("bracket", 12))
	require.NoError(t, err)
	b.game.SetInactiveDays(carolNat, 10)
	carol := b.game.Nation(carolNat)
	carol.VacationModeTurns = 40
	b.game.AddNation(carol)
	require.NoError(t, b.client.InvalidateTag(ctx, "alliance:77"))
	b.now = time.Now() // the game's clock is the real one

	did := b.pass(t)
	require.Equal(t, 1, did.Reports)
	require.Zero(t, did.Moved)
	report := fake.ChannelMessages(auditChannel)[0].Embeds[0].Description
	require.Contains(t, report, "**3** failing · **3** passing", "Carol passes while in vacation mode")
	require.NotContains(t, report, "Carolina")
	require.Empty(t, fake.DMs(carolID))
	require.Equal(t, 11, b.game.Nation(carolNat).TaxID)
	resp, err := b.command(t, aliceID, "/audit/run", nationOpt(carolNat))
	require.NoError(t, err)
	require.Contains(t, resp.Embeds[0].Description, "**Carolina** passes every rule.")

	// Back from vacation the next day, still away: judged, reminded, moved.
	carol.VacationModeTurns = 0
	b.game.AddNation(carol)
	require.NoError(t, b.client.InvalidateTag(ctx, "alliance:77"))
	b.now = time.Now().Add(24 * time.Hour)
	did = b.pass(t)
	require.Equal(t, 1, did.Reports)
	require.Equal(t, 1, did.Moved)
	require.Equal(t, 12, b.game.Nation(carolNat).TaxID)
	msgs := fake.ChannelMessages(auditChannel)
	require.Contains(t, msgs[len(msgs)-2].Embeds[0].Description, "inactive 11 days, rule 3 · color red, rule purple")
	require.Len(t, fake.DMs(carolID), 1)
}

// TestAuditAutomationSetterLeft: the automation acts with the alliance key
// of the manager who set it. Once the game shows that nation out of the
// alliance, the pass moves nobody with it: the key is retired and the
// automation stops, its admins told.
func TestAuditAutomationSetterLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, a, fake := reporting(t)
	_, err := b.command(t, aliceID, "/audit/automation/inactive-bracket", fakediscord.Option("days", 7), fakediscord.Option("bracket", 12))
	require.NoError(t, err)
	b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn"})
	b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice", AllianceID: thorn, AlliancePosition: "LEADER"})
	b.game.SetInactiveDays(bobNation, 8)
	require.NoError(t, b.client.InvalidateTag(ctx, "alliance:77"))
	b.now = time.Now()

	did := b.pass(t)
	require.Equal(t, 1, did.Stopped)
	require.Zero(t, did.Moved)
	require.Zero(t, b.game.RequestsFor("assignTaxBracket"))
	require.Equal(t, 11, b.game.Nation(bobNation).TaxID)
	m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, aliceID).ID, AllianceID: a.ID})
	require.NoError(t, err)
	require.Nil(t, m.ManagerApiKey, "retired")
	row, err := b.st.AuditAutomationGet(ctx, a.ID)
	require.NoError(t, err)
	require.NotNil(t, row.StoppedAt)
	require.Contains(t, row.StoppedReason, "own key's nation not in the alliance")
	var told []string
	for _, dm := range fake.DMs(aliceID) {
		told = append(told, dm.Content)
	}
	require.Contains(t, strings.Join(told, "\n"), "no longer a member of **Rose**")
}
