package members_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/keys"
	"pnwbot/members"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

const (
	botKey     = "botkey00000000000000"
	gameBotKey = "gamebotkey0000000000"
	aliceKey   = "alicekey000000000000"
	rose       = 7
	alice      = 101 // nations
	carol      = 103
	dave       = 105
	erin       = 106
)

var memberPerms = []string{"alliance_accept_applicants", "alliance_remove_members", "alliance_change_permissions", "alliance_tax_brackets"}

type bundle struct {
	st      *store.Store
	game    *fakepnw.Server
	ring    *secrets.Keyring
	members *members.Members
	alice   keys.Actor
}

// setup is Rose in the game and in pnwbot: Alice its leader and manager,
// her alliance key allowed every member action, Carol a member, Dave an
// applicant, Erin in no alliance, and the bot's game bot key.
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	fake, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.AddKey(botKey, 1)
	fake.SetBotKey(gameBotKey)
	fake.AddKey(aliceKey, alice, memberPerms...)
	fake.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose"})
	fake.AddNation(fakepnw.Nation{ID: alice, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "LEADER"})
	fake.AddNation(fakepnw.Nation{ID: carol, NationName: "Carolina", LeaderName: "Carol", AllianceID: rose, AlliancePosition: "MEMBER"})
	fake.AddNation(fakepnw.Nation{ID: dave, NationName: "Daveland", LeaderName: "Dave", AllianceID: rose, AlliancePosition: "APPLICANT"})
	fake.AddNation(fakepnw.Nation{ID: erin, NationName: "Erinia", LeaderName: "Erin"})
	game, err := pnw.New(pnw.Options{URL: fake.URL, APIKey: botKey, BotKey: gameBotKey})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(ctx) })
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	ring, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)

	b := &bundle{st: storetest.NewDB(t), game: fake, ring: ring}
	a, err := b.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	u, m := storetest.AddManager(t, b.st, ring, a, "1001", aliceKey)
	b.alice = keys.Actor{User: u, Alliance: a, Row: &m}
	gameKeys := keys.New(keys.Options{Store: b.st, Game: game, Ring: ring})
	b.members = members.New(members.Options{Store: b.st, Game: game, Keys: gameKeys})
	return b
}

// audited is the audit log's rows of member actions, newest first.
func (b *bundle) audited(t *testing.T) []store.AuditLog {
	t.Helper()
	rows, err := b.st.AuditLogList(context.Background(), store.AuditLogListParams{RowLimit: 100})
	require.NoError(t, err)
	var out []store.AuditLog
	for _, r := range rows {
		if r.ResourceType == "nation" {
			out = append(out, r)
		}
	}
	return out
}

// refusedOnly checks that the audit log holds one row of member actions:
// the refusal, for reason, of an action on nation ("" before one is named).
func (b *bundle) refusedOnly(t *testing.T, nation, reason string) {
	t.Helper()
	rows := b.audited(t)
	require.Len(t, rows, 1)
	require.Equal(t, "alliance.member", rows[0].Action)
	require.False(t, rows[0].Success)
	require.Equal(t, nation, rows[0].ResourceID)
	require.JSONEq(t, `{"reason": "`+reason+`"}`, string(rows[0].NewValues))
}

func TestMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AcceptAnApplicantOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.members.Check(ctx, b.alice, members.Accept))
		n, err := b.members.Ask(ctx, b.alice, members.Accept, dave)
		require.NoError(t, err)
		require.Equal(t, "Daveland", n.NationName)
		require.Zero(t, b.game.RequestsFor("assignAlliancePosition"), "asking sends nothing")

		o, err := b.members.Confirm(ctx, b.alice, members.Accept, dave, "MEMBER")
		require.NoError(t, err)
		require.Equal(t, members.Done, o.State)
		require.Equal(t, "APPLICANT", o.Old)
		require.Equal(t, "MEMBER", b.game.Nation(dave).AlliancePosition)
		rows := b.audited(t)
		require.Len(t, rows, 1)
		require.Equal(t, "alliance.member_accept", rows[0].Action)
		require.True(t, rows[0].Success)
		require.Equal(t, "105", rows[0].ResourceID)
		require.JSONEq(t, `{"position": "APPLICANT"}`, string(rows[0].OldValues))
		require.JSONEq(t, `{"position": "MEMBER"}`, string(rows[0].NewValues))

		// A second click reads the game again: done already, not sent.
		o, err = b.members.Confirm(ctx, b.alice, members.Accept, dave, "MEMBER")
		require.NoError(t, err)
		require.Equal(t, members.AlreadyDone, o.State)
		require.Equal(t, 1, b.game.RequestsFor("assignAlliancePosition"))
		require.Len(t, b.audited(t), 1)

		// Promoted in the game before a late click: the click does not
		// demote them.
		officer := b.game.Nation(dave)
		officer.AlliancePosition = "OFFICER"
		b.game.AddNation(officer)
		o, err = b.members.Confirm(ctx, b.alice, members.Accept, dave, "MEMBER")
		require.NoError(t, err)
		require.Equal(t, members.AlreadyDone, o.State)
		require.Equal(t, "OFFICER", o.Old)
		require.Equal(t, "OFFICER", b.game.Nation(dave).AlliancePosition)
		require.Equal(t, 1, b.game.RequestsFor("assignAlliancePosition"))
	})

	t.Run("RefusedTargets", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		n, err := b.members.Ask(ctx, b.alice, members.Accept, carol)
		require.ErrorIs(t, err, members.ErrNotApplicant)
		require.EqualValues(t, "MEMBER", n.AlliancePosition)
		_, err = b.members.Ask(ctx, b.alice, members.TaxBracket, dave)
		require.ErrorIs(t, err, members.ErrApplicant)
		_, err = b.members.Ask(ctx, b.alice, members.Position, alice)
		require.ErrorIs(t, err, members.ErrLeader)
		_, err = b.members.Ask(ctx, b.alice, members.Remove, erin)
		require.ErrorIs(t, err, members.ErrNotListed)
		require.Empty(t, b.audited(t), "a target refused before the confirmation is not audited")
	})

	t.Run("LeaderRefusedOnConfirm", func(t *testing.T) {
		t.Parallel()
		// A refusal writes its audit row and changes nothing in the game.
		b := setup(t)
		_, err := b.members.Confirm(ctx, b.alice, members.Position, alice, "OFFICER")
		require.ErrorIs(t, err, members.ErrLeader)
		require.Zero(t, b.game.RequestsFor("assignAlliancePosition"))
		require.Equal(t, "LEADER", b.game.Nation(alice).AlliancePosition)
		b.refusedOnly(t, "101", "leader")
	})

	t.Run("NotInTheAlliance", func(t *testing.T) {
		t.Parallel()
		// Erin is in no alliance: removing her is done already, and she
		// gets no position; neither is sent or audited.
		b := setup(t)
		o, err := b.members.Confirm(ctx, b.alice, members.Remove, erin, "REMOVE")
		require.NoError(t, err)
		require.Equal(t, members.AlreadyDone, o.State)
		o, err = b.members.Confirm(ctx, b.alice, members.Position, erin, "OFFICER")
		require.NoError(t, err)
		require.Equal(t, members.NotInAlliance, o.State)
		require.Zero(t, b.game.RequestsFor("assignAlliancePosition"))
		require.Empty(t, b.audited(t))
	})

	t.Run("NoBotKey", func(t *testing.T) {
		t.Parallel()
		// Without the game bot key the game refuses every member action:
		// refused before the nation is looked up, and audited.
		b := setup(t)
		game, err := pnw.New(pnw.Options{URL: b.game.URL, APIKey: botKey})
		require.NoError(t, err)
		t.Cleanup(func() { _ = game.Close(ctx) })
		b.members = members.New(members.Options{Store: b.st, Game: game, Keys: keys.New(keys.Options{Store: b.st, Game: game, Ring: b.ring})})
		require.ErrorIs(t, b.members.Check(ctx, b.alice, members.Accept), members.ErrNoBotKey)
		b.refusedOnly(t, "", "no bot key")
	})
}
