package commands_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

const daveNation = 1005

var memberPerms = []string{"alliance_accept_applicants", "alliance_remove_members", "alliance_change_permissions", "alliance_tax_brackets"}

// officer sets Rose up with Alice as its admin and leader, her alliance key
// allowed every member action, Dave an applicant, Carol in tax bracket 11,
// and the game's bot key.
func officer(t *testing.T) (*testBundle, store.Alliance) {
	t.Helper()
	_, b := setup(t)
	a := b.setUp(t)
	b.game.AddKey(aliceKey, aliceNation, memberPerms...)
	b.game.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose",
		TaxBrackets: []fakepnw.TaxBracket{{ID: 11, Name: "Growth", TaxRate: 10}, {ID: 12, Name: "War chest", TaxRate: 50}}})
	b.game.AddNation(fakepnw.Nation{ID: daveNation, NationName: "Daveland", LeaderName: "Dave", AllianceID: rose, AlliancePosition: "APPLICANT"})
	b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", LeaderName: "Carol", AllianceID: rose, TaxID: 11})
	b.game.SetBotKey(gameBotKey)
	b.linkAllianceKey(t, a, aliceID, aliceKey, memberPerms...)
	b.restart(t, pnw.Options{})
	return b, a
}

func nationOpt(id int) *discordgo.ApplicationCommandInteractionDataOption {
	return fakediscord.Option("nation", strconv.Itoa(id))
}

// memberAudit is the latest audit row of action, with its values decoded.
func (b *testBundle) memberAudit(t *testing.T, action string) (row store.AuditLog, old, new map[string]any) {
	t.Helper()
	for _, r := range b.auditActions(t) {
		if r.Action == action {
			if len(r.OldValues) > 0 { // a refusal has none
				require.NoError(t, json.Unmarshal(r.OldValues, &old))
			}
			require.NoError(t, json.Unmarshal(r.NewValues, &new))
			return r, old, new
		}
	}
	t.Fatalf("no audit row %s", action)
	return
}

func TestAllianceMember(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AcceptOnceAndInvalidateMembers", func(t *testing.T) {
		t.Parallel()
		b, _ := officer(t)
		members, err := b.client.AllianceMembers(ctx, rose)
		require.NoError(t, err)
		require.Equal(t, 1, b.game.RequestsFor("allianceMembers"))

		resp, err := b.command(t, aliceID, "/alliance/member/accept", nationOpt(daveNation))
		require.NoError(t, err)
		require.True(t, resp.Ephemeral)
		require.Contains(t, resp.Content, "accept Daveland into Rose? It is Applicant now")
		require.Equal(t, 1, b.game.RequestsFor("allianceMembers"), "the cached member list served the check")
		require.Zero(t, b.game.RequestsFor("assignAlliancePosition"), "nothing before the confirmation")

		confirm := buttonID(t, resp, 0)
		resp, err = b.click(t, confirm)
		require.NoError(t, err)
		require.Equal(t, bot.TypeUpdate, resp.Type)
		require.Contains(t, resp.Content, "was applicant and is now member")
		require.Equal(t, "MEMBER", b.game.Nation(daveNation).AlliancePosition)
		require.Equal(t, 1, b.game.RequestsFor("assignAlliancePosition"))
		row, old, new := b.memberAudit(t, "alliance.member_accept")
		require.True(t, row.Success)
		require.Equal(t, "APPLICANT", old["position"])
		require.Equal(t, "MEMBER", new["position"])

		members, err = b.client.AllianceMembers(ctx, rose)
		require.NoError(t, err)
		require.Equal(t, 2, b.game.RequestsFor("allianceMembers"), "the member list was invalidated by its tag")
		for _, n := range members.Data {
			if n.Id == strconv.Itoa(daveNation) {
				require.EqualValues(t, "MEMBER", n.AlliancePosition)
			}
		}

		resp, err = b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Content, "Already done")
		require.Equal(t, 1, b.game.RequestsFor("assignAlliancePosition"), "a second click sends nothing")
	})

	t.Run("RemovePositionTaxBracket", func(t *testing.T) {
		t.Parallel()
		b, _ := officer(t)
		do := func(path string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
			resp, err := b.command(t, aliceID, path, opts...)
			require.NoError(t, err)
			resp, err = b.click(t, buttonID(t, resp, 0))
			require.NoError(t, err)
			return resp.Content
		}
		require.Contains(t, do("/alliance/member/position", nationOpt(carolNat), fakediscord.Option("position", "OFFICER")), "now officer")
		require.Equal(t, "OFFICER", b.game.Nation(carolNat).AlliancePosition)
		_, old, new := b.memberAudit(t, "alliance.member_position")
		require.Equal(t, "MEMBER", old["position"])
		require.Equal(t, "OFFICER", new["position"])

		require.Contains(t, do("/alliance/member/tax-bracket", nationOpt(carolNat), fakediscord.Option("bracket", 12)), "moved from tax bracket 11 to 12 (War chest)")
		require.Equal(t, 12, b.game.Nation(carolNat).TaxID)
		_, old, new = b.memberAudit(t, "alliance.member_tax_bracket")
		require.Equal(t, "11", old["tax_bracket"])
		require.Equal(t, "12", new["tax_bracket"])
		require.Equal(t, "War chest", new["bracket_name"])

		resp, err := b.command(t, aliceID, "/alliance/member/remove", nationOpt(bobNation))
		require.NoError(t, err)
		remove := buttonID(t, resp, 0)
		resp, err = b.click(t, remove)
		require.NoError(t, err)
		require.Contains(t, resp.Content, "(was member) is no longer in Rose")
		resp, err = b.click(t, remove)
		require.NoError(t, err)
		require.Contains(t, resp.Content, "Already done: nation 1002 is not in Rose")
		require.Zero(t, b.game.Nation(bobNation).AllianceID)
		_, old, _ = b.memberAudit(t, "alliance.member_remove")
		require.Equal(t, "MEMBER", old["position"])
		require.Equal(t, 1, b.game.RequestsFor("assignTaxBracket"))
		require.Equal(t, 2, b.game.RequestsFor("assignAlliancePosition"))
	})

	t.Run("RateLimitedSaysNothingChanged", func(t *testing.T) {
		t.Parallel()
		// The manager's key has two requests left today: the key's check
		// and the fresh read take them and the mutation is rate-limited,
		// so it certainly did not run, and the manager is told so.
		b, _ := officer(t)
		resp, err := b.command(t, aliceID, "/alliance/member/position", nationOpt(carolNat), fakediscord.Option("position", "OFFICER"))
		require.NoError(t, err)
		b.game.SetKeyLimit(aliceKey, 100, 98)
		_, err = b.click(t, buttonID(t, resp, 0))
		require.ErrorContains(t, err, "Nothing was changed.")
		require.NotContains(t, err.Error(), "may have gone through")
		require.Equal(t, "MEMBER", b.game.Nation(carolNat).AlliancePosition)
		row, _, _ := b.memberAudit(t, "alliance.member_position")
		require.False(t, row.Success)
	})

	t.Run("UnprovenRefusalMayHaveGoneThrough", func(t *testing.T) {
		t.Parallel()
		// An answer the game is not known to refuse with may come from
		// after the change: the manager is told to check, not that
		// nothing changed.
		for _, f := range []fakepnw.Failure{{Message: "Something went wrong.", Op: "assignAlliancePosition"}, {Status: 400, Op: "assignAlliancePosition"}} {
			b, _ := officer(t)
			resp, err := b.command(t, aliceID, "/alliance/member/position", nationOpt(carolNat), fakediscord.Option("position", "OFFICER"))
			require.NoError(t, err)
			f.Times = 1
			b.game.Fail(f)
			_, err = b.click(t, buttonID(t, resp, 0))
			require.ErrorContains(t, err, "may have gone through", "%+v", f)
			require.NotContains(t, err.Error(), "Nothing was changed")
		}
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		b, a := officer(t)
		_, err := b.command(t, aliceID, "/alliance/member/accept", nationOpt(bobNation))
		require.ErrorContains(t, err, "Bobistan is not an applicant of Rose")
		_, err = b.command(t, aliceID, "/alliance/member/tax-bracket", nationOpt(daveNation), fakediscord.Option("bracket", 11))
		require.ErrorContains(t, err, "still an applicant")
		_, err = b.command(t, aliceID, "/alliance/member/remove", nationOpt(1003))
		require.ErrorContains(t, err, "neither a member nor an applicant")

		b.manage(t, a, bobID, access.Manager, nil)
		before := len(b.denials(t))
		_, err = b.command(t, bobID, "/alliance/member/remove", nationOpt(carolNat))
		require.ErrorContains(t, err, "missing canManageMembers")
		require.Len(t, b.denials(t), before+1)

		// What the key may do is what the game says now, not what it said
		// when linked.
		b.game.AddKey(aliceKey, aliceNation, "alliance_accept_applicants")
		_, err = b.command(t, aliceID, "/alliance/member/tax-bracket", nationOpt(carolNat), fakediscord.Option("bracket", 12))
		require.ErrorContains(t, err, "lacks alliance_tax_brackets")
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, aliceID).ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.JSONEq(t, `{"alliance_accept_applicants": true}`, trueOnly(t, m.KeyPermissions), "and is recorded")

		// The game refuses a bracket of another alliance: audited, nothing changed.
		b.game.AddKey(aliceKey, aliceNation, memberPerms...)
		resp, err := b.command(t, aliceID, "/alliance/member/tax-bracket", nationOpt(carolNat), fakediscord.Option("bracket", 99))
		require.NoError(t, err)
		_, err = b.click(t, buttonID(t, resp, 0))
		require.ErrorContains(t, err, "The game refused it: That tax bracket does not exist in your alliance.")
		row, _, _ := b.memberAudit(t, "alliance.member_tax_bracket")
		require.False(t, row.Success)
		require.Equal(t, 11, b.game.Nation(carolNat).TaxID)

		// Only the manager who asked confirms.
		resp, err = b.command(t, aliceID, "/alliance/member/remove", nationOpt(carolNat))
		require.NoError(t, err)
		b.manage(t, a, carolID, access.Admin, nil)
		resp, err = b.click(t, buttonID(t, resp, 0), carolID)
		require.NoError(t, err)
		require.Contains(t, resp.Content, "not yours")
		require.Equal(t, rose, b.game.Nation(carolNat).AllianceID)
		row, _, refused := b.memberAudit(t, "alliance.member")
		require.False(t, row.Success, "the refused click is audited")
		require.Equal(t, "expired or not theirs", refused["reason"])
	})

	t.Run("KeyOfANationThatLeft", func(t *testing.T) {
		t.Parallel()
		// Alice asked, then her nation left Rose: her key acts for Rose no
		// more. Refused, nothing sent, the key retired.
		b, a := officer(t)
		resp, err := b.command(t, aliceID, "/alliance/member/accept", nationOpt(daveNation))
		require.NoError(t, err)
		b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice"})
		_, err = b.click(t, buttonID(t, resp, 0))
		require.ErrorContains(t, err, "no longer a member of Rose")
		require.Zero(t, b.game.RequestsFor("assignAlliancePosition"))
		require.Equal(t, "APPLICANT", b.game.Nation(daveNation).AlliancePosition)
		row, _, refused := b.memberAudit(t, "alliance.member")
		require.False(t, row.Success)
		require.Equal(t, "own key's nation not in the alliance", refused["reason"])
		row, _, _ = b.memberAudit(t, "alliance.key_retired")
		require.True(t, row.Success)
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, aliceID).ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.Nil(t, m.ManagerApiKey)
	})

	t.Run("StandingCheckedAgainOnConfirm", func(t *testing.T) {
		t.Parallel()
		// Asked while Carol was a member; she left and applied again before
		// the click: an applicant is not made officer.
		b, _ := officer(t)
		resp, err := b.command(t, aliceID, "/alliance/member/position", nationOpt(carolNat), fakediscord.Option("position", "OFFICER"))
		require.NoError(t, err)
		b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", LeaderName: "Carol", AllianceID: rose, AlliancePosition: "APPLICANT"})
		_, err = b.click(t, buttonID(t, resp, 0))
		require.ErrorContains(t, err, "an applicant again")
		require.Zero(t, b.game.RequestsFor("assignAlliancePosition"))
		row, _, refused := b.memberAudit(t, "alliance.member")
		require.False(t, row.Success)
		require.Equal(t, "applicant", refused["reason"])
	})
}

// trueOnly is a key_permissions column with only the permissions granted.
func trueOnly(t *testing.T, raw []byte) string {
	t.Helper()
	var all map[string]bool
	require.NoError(t, json.Unmarshal(raw, &all))
	granted := map[string]bool{}
	for p, ok := range all {
		if ok {
			granted[p] = true
		}
	}
	out, err := json.Marshal(granted)
	require.NoError(t, err)
	return string(out)
}
