package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

const (
	eveNation   = 1006
	frankNation = 1007
	day         = 24 * time.Hour
)

// tenCities are ten cities of 5/5/5/3 but for drydocks short: 150,000
// soldiers, 12,500 tanks, 750 aircraft and 5 ships a drydock allowed.
func tenCities(drydocks int) []fakepnw.City {
	cities := make([]fakepnw.City, 10)
	for i := range cities {
		cities[i] = fakepnw.City{ID: 5000 + i, Barracks: 5, Factory: 5, Hangar: 5, Drydock: 3}
	}
	cities[9].Drydock = drydocks
	return cities
}

// audited sets Rose (purple) up as officer does, with members standing
// exactly at or one past each rule's threshold, and Rose's server on a fake
// Discord where Alice, Bob and Carol are members, Dave is not.
func audited(t *testing.T) (*testBundle, store.Alliance, *fakediscord.Fake) {
	t.Helper()
	b, a := officer(t)
	fake, bt := b.fakeDiscord(t)
	b.with(func(d *wiring) { d.Guilds, d.DM, d.Channels = bt, bt, bt })
	for _, id := range []string{aliceID, bobID, carolID} {
		fake.AddMember(guild, id)
	}
	b.game.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Color: "purple",
		TaxBrackets: []fakepnw.TaxBracket{{ID: 11, Name: "Growth", TaxRate: 10}, {ID: 12, Name: "Inactive", TaxRate: 100}}})
	// Alice stands exactly at every threshold: MMR 5/5/5/3, half of what her
	// buildings allow, active within three days.
	b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "LEADER",
		Color: "purple", NumCities: 10, Cities: tenCities(3), Soldiers: 75000, Tanks: 6250, Aircraft: 375, Ships: 75,
		LastActive: b.now.Add(-3 * day), TaxID: 11})
	// Bob is one drydock short and one ship under half.
	b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", LeaderName: "Bob", AllianceID: rose,
		Color: "purple", NumCities: 10, Cities: tenCities(2), Soldiers: 75000, Tanks: 6250, Aircraft: 375, Ships: 72,
		LastActive: b.now.Add(-time.Hour), TaxID: 11})
	// Carol is red and four days away.
	b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", LeaderName: "Carol", AllianceID: rose,
		Color: "red", LastActive: b.now.Add(-4 * day), TaxID: 11})
	// Dave has applied three days ago, Frank two: the rule is two.
	b.game.AddNation(fakepnw.Nation{ID: daveNation, NationName: "Daveland", LeaderName: "Dave", AllianceID: rose, AlliancePosition: "APPLICANT",
		AllianceSeniority: 3, LastActive: b.now})
	b.game.AddNation(fakepnw.Nation{ID: frankNation, NationName: "Frankfort", LeaderName: "Frank", AllianceID: rose, AlliancePosition: "APPLICANT",
		AllianceSeniority: 2, LastActive: b.now})
	// Eve is beige and never linked her nation.
	b.game.AddNation(fakepnw.Nation{ID: eveNation, NationName: "Eveland", LeaderName: "Eve", AllianceID: rose,
		Color: "beige", LastActive: b.now})
	return b, a, fake
}

// auditRow is the latest audit row of action.
func (b *testBundle) auditRow(t *testing.T, action string) store.AuditLog {
	t.Helper()
	rows, err := b.st.AuditLogList(context.Background(), store.AuditLogListParams{Action: &action, RowLimit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, rows, "no audit row %s", action)
	return rows[0]
}

func (b *testBundle) setRule(t *testing.T, user string, opts ...*discordgo.ApplicationCommandInteractionDataOption) (*bot.Response, error) {
	t.Helper()
	return b.command(t, user, "/audit/rules/set", opts...)
}

func (b *testBundle) allRules(t *testing.T) {
	t.Helper()
	kind := func(k string) *discordgo.ApplicationCommandInteractionDataOption {
		return fakediscord.Option("kind", k)
	}
	for _, opts := range [][]*discordgo.ApplicationCommandInteractionDataOption{
		{kind("inactive")},
		{kind("color")},
		{kind("mmr"), fakediscord.Option("mmr", "5/5/5/3")},
		{kind("discord")},
		{kind("applicant")},
		{kind("military"), fakediscord.Option("percent", 50)},
	} {
		resp, err := b.setRule(t, aliceID, opts...)
		require.NoError(t, err)
		require.Contains(t, resp.Content, "Added the rule")
	}
}

func TestAuditRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, a, _ := audited(t)
	b.allRules(t)

	resp, err := b.command(t, aliceID, "/audit/rules/list")
	require.NoError(t, err)
	list := resp.Embeds[0].Description
	for _, want := range []string{"inactive: active within the last 3 days", "color: the alliance's color", "mmr: at least 5/5/5/3",
		"discord: nation linked", "applicant: answered within 2 days", "military: soldiers, tanks, aircraft and ships at least 50%"} {
		require.Contains(t, list, want)
	}

	// A second mmr rule from 15 cities sits beside the first; the same
	// kind and cities again changes it.
	_, err = b.setRule(t, aliceID, fakediscord.Option("kind", "mmr"), fakediscord.Option("mmr", "0/2/5/0"), fakediscord.Option("cities", 15))
	require.NoError(t, err)
	resp, err = b.setRule(t, aliceID, fakediscord.Option("kind", "inactive"), fakediscord.Option("days", 5))
	require.NoError(t, err)
	require.Contains(t, resp.Content, "Changed the rule inactive: active within the last 3 days to inactive: active within the last 5 days")
	rows, err := b.st.AuditRuleList(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, rows, 7)

	// Bad input says why and changes nothing.
	for _, bad := range []struct {
		opts []*discordgo.ApplicationCommandInteractionDataOption
		want string
	}{
		{[]*discordgo.ApplicationCommandInteractionDataOption{fakediscord.Option("kind", "mmr")}, "needs mmr"},
		{[]*discordgo.ApplicationCommandInteractionDataOption{fakediscord.Option("kind", "mmr"), fakediscord.Option("mmr", "5/5/5/4")}, "0 to 3 drydocks"},
		{[]*discordgo.ApplicationCommandInteractionDataOption{fakediscord.Option("kind", "color"), fakediscord.Option("days", 3)}, "takes no days"},
		{[]*discordgo.ApplicationCommandInteractionDataOption{fakediscord.Option("kind", "military")}, "needs percent"},
		{[]*discordgo.ApplicationCommandInteractionDataOption{fakediscord.Option("kind", "inactive"), fakediscord.Option("days", 400)}, "Days go from 1"},
		{[]*discordgo.ApplicationCommandInteractionDataOption{fakediscord.Option("kind", "war")}, "Pick the kind"},
	} {
		_, err := b.setRule(t, aliceID, bad.opts...)
		require.ErrorContains(t, err, bad.want)
		require.ErrorContains(t, err, "Nothing was changed")
	}
	after, err := b.st.AuditRuleList(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, rows, after)

	resp, err = b.command(t, aliceID, "/audit/rules/remove", fakediscord.Option("kind", "mmr"), fakediscord.Option("cities", 15))
	require.NoError(t, err)
	require.Contains(t, resp.Content, "Removed the rule mmr: at least 0/2/5/0")
	_, err = b.command(t, aliceID, "/audit/rules/remove", fakediscord.Option("kind", "mmr"), fakediscord.Option("cities", 15))
	require.ErrorContains(t, err, "has no mmr rule")
	rows, err = b.st.AuditRuleList(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, rows, 6)

	set := b.auditRow(t, "audit_rule.set")
	require.JSONEq(t, `{"rule": "inactive: active within the last 5 days"}`, string(set.NewValues))
	require.JSONEq(t, `{"rule": "inactive: active within the last 3 days"}`, string(set.OldValues))
	removed := b.auditRow(t, "audit_rule.remove")
	require.JSONEq(t, `{"rules": ["mmr: at least 0/2/5/0 barracks/factories/hangars/drydocks per city, from 15 cities"]}`, string(removed.OldValues))

	t.Run("Refusals", func(t *testing.T) {
		// Bob views members but may not manage them: he runs the audit and
		// may not touch the rules; each refusal is audited.
		b.manage(t, a, bobID, access.Viewer, nil)
		before := len(b.denials(t))
		_, err := b.setRule(t, bobID, fakediscord.Option("kind", "color"))
		require.ErrorContains(t, err, "missing canManageMembers")
		_, err = b.command(t, bobID, "/audit/rules/list")
		require.ErrorContains(t, err, "missing canManageMembers")
		_, err = b.command(t, bobID, "/audit/rules/remove", fakediscord.Option("kind", "color"))
		require.ErrorContains(t, err, "missing canManageMembers")
		_, err = b.command(t, carolID, "/audit/run")
		require.ErrorContains(t, err, "missing canViewMembers")
		_, err = b.command(t, bobID, "/audit/run")
		require.NoError(t, err)
		denials := b.denials(t)
		require.Len(t, denials, before+4)
		require.Contains(t, string(denials[0].NewValues), "/audit/run")
		rows, err := b.st.AuditRuleList(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, rows, 6, "a refused change changes nothing")
	})
}

func TestAuditRun(t *testing.T) {
	t.Parallel()
	b, _, _ := audited(t)
	_, err := b.command(t, aliceID, "/audit/run")
	require.ErrorContains(t, err, "has no audit rules yet")
	b.allRules(t)

	members, audit := b.game.RequestsFor("allianceMembers"), b.game.RequestsFor("allianceAudit")
	resp, err := b.command(t, aliceID, "/audit/run")
	require.NoError(t, err)
	require.True(t, resp.Ephemeral)
	e := resp.Embeds[0]
	require.Equal(t, "Audit of Rose", e.Title)
	require.Contains(t, e.Description, "**4** failing · **2** passing · 6 rules")
	lines := strings.Split(e.Description, "\n")[2:]
	require.Len(t, lines, 4)
	// Worst first: Bob fails two rules; then one each, by name.
	require.Contains(t, lines[0], "Bobistan")
	require.Contains(t, lines[0], "MMR 5/5/5/2.9, rule 5/5/5/3 · military ships 49%, rule 50%")
	require.Contains(t, lines[1], "Carolina")
	require.Contains(t, lines[1], "inactive 4 days, rule 3 · color red, rule purple")
	require.Contains(t, lines[2], "Daveland")
	require.Contains(t, lines[2], "applicant 3 days, rule 2")
	require.Contains(t, lines[3], "Eveland")
	require.Contains(t, lines[3], "discord: nation not linked with /link")
	require.NotContains(t, e.Description, "Aliceland", "exactly at every threshold passes")
	require.NotContains(t, e.Description, "Frankfort", "an applicant of exactly two days passes")
	require.Equal(t, members+1, b.game.RequestsFor("allianceMembers"))
	require.Equal(t, audit+1, b.game.RequestsFor("allianceAudit"))

	// Cached: a second run asks the game nothing.
	_, err = b.command(t, aliceID, "/audit/run")
	require.NoError(t, err)
	require.Equal(t, members+1, b.game.RequestsFor("allianceMembers"))
	require.Equal(t, audit+1, b.game.RequestsFor("allianceAudit"))

	t.Run("OneNation", func(t *testing.T) {
		resp, err := b.command(t, aliceID, "/audit/run", nationOpt(carolNat))
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "**1** failing · **0** passing")
		require.Contains(t, resp.Embeds[0].Description, "inactive 4 days, rule 3")
		resp, err = b.command(t, aliceID, "/audit/run", nationOpt(aliceNation))
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "**Aliceland** passes every rule.")
		_, err = b.command(t, aliceID, "/audit/run", nationOpt(1))
		require.ErrorContains(t, err, "is not in Rose")
	})

	t.Run("NotInServer", func(t *testing.T) {
		// Carol leaves the server: the discord rule says so.
		b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", LeaderName: "Carol", AllianceID: rose, Color: "purple", LastActive: b.now})
		require.NoError(t, b.client.InvalidateTag(context.Background(), "alliance:77"))
		fake, bt := b.fakeDiscord(t)
		b.with(func(d *wiring) { d.Guilds = bt })
		fake.AddMember(guild, aliceID)
		fake.AddMember(guild, bobID)
		resp, err := b.command(t, aliceID, "/audit/run", nationOpt(carolNat))
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "discord: linked account not in this server")
	})
}

func TestAuditRunPages(t *testing.T) {
	t.Parallel()
	b, _, _ := audited(t)
	_, err := b.setRule(t, aliceID, fakediscord.Option("kind", "color"))
	require.NoError(t, err)
	for i := range 25 {
		b.game.AddNation(fakepnw.Nation{ID: 2000 + i, NationName: "Red " + string(rune('A'+i)), AllianceID: rose, Color: "red"})
	}
	resp, err := b.command(t, aliceID, "/audit/run")
	require.NoError(t, err)
	require.Contains(t, resp.Embeds[0].Description, "**26** failing")
	require.Equal(t, "Page 1 of 3 · 26 in all", resp.Embeds[0].Footer.Text)
	next := resp.Components[0].(discordgo.ActionsRow).Components[1].(discordgo.Button)
	resp, err = b.click(t, next.CustomID)
	require.NoError(t, err)
	require.Equal(t, bot.TypeUpdate, resp.Type)
	require.Equal(t, "Page 2 of 3 · 26 in all", resp.Embeds[0].Footer.Text)
	_, err = b.click(t, next.CustomID, bobID)
	require.ErrorContains(t, err, "Only the person who ran this command")
}
