package ia_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/ia"
	"pnwbot/keys"
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
)

type bundle struct {
	st    *store.Store
	game  *fakepnw.Server
	ring  *secrets.Keyring
	ia    *ia.Service
	alice keys.Actor // her alliance key may move members between brackets
	bob   keys.Actor // a manager without a key
}

// setup is Rose in the game and in pnwbot: Alice its leader, Carol a member
// in tax bracket 12, and the bot's game bot key.
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	fake, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.AddKey(botKey, 1)
	fake.SetBotKey(gameBotKey)
	fake.AddKey(aliceKey, alice, "alliance_tax_brackets")
	fake.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", TaxBrackets: []fakepnw.TaxBracket{{ID: 11}, {ID: 12}}})
	fake.AddNation(fakepnw.Nation{ID: alice, NationName: "Aliceland", AllianceID: rose, AlliancePosition: "LEADER"})
	fake.AddNation(fakepnw.Nation{ID: carol, NationName: "Carolina", AllianceID: rose, AlliancePosition: "MEMBER", TaxID: 12})
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	ring, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)

	b := &bundle{st: storetest.NewDB(t), game: fake, ring: ring}
	a, err := b.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	manager := func(discordID, key string) keys.Actor {
		u, m := storetest.AddManager(t, b.st, ring, a, discordID, key)
		return keys.Actor{User: u, Alliance: a, Row: &m}
	}
	b.alice, b.bob = manager("1001", aliceKey), manager("1002", "")
	b.ia = b.service(t, gameBotKey)
	return b
}

// service is the ia service on a game client with gameBot as its game bot
// key ("": none).
func (b *bundle) service(t *testing.T, gameBot string) *ia.Service {
	t.Helper()
	game, err := pnw.New(pnw.Options{URL: b.game.URL, APIKey: botKey, BotKey: gameBot})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	return ia.New(ia.Options{Store: b.st, Game: game, Keys: keys.New(keys.Options{Store: b.st, Game: game, Ring: b.ring})})
}

// refusedOnly checks that the audit log holds one row: the refusal of
// action on resource id, for reason.
func (b *bundle) refusedOnly(t *testing.T, action, resource, id, reason string) {
	t.Helper()
	rows, err := b.st.AuditLogList(context.Background(), store.AuditLogListParams{RowLimit: 100})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, action, rows[0].Action)
	require.False(t, rows[0].Success)
	require.Equal(t, resource, rows[0].ResourceType)
	require.Equal(t, id, rows[0].ResourceID)
	require.JSONEq(t, `{"reason": "`+reason+`"}`, string(rows[0].NewValues))
}

// TestManagerKeys: the automation is set, and a move undone, only with the
// manager's own key, and the automation only with the bot's game bot key;
// each refusal is audited and changes nothing.
func TestManagerKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AutomationSet", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.ia.SetAutomation(ctx, b.alice, 7, 12))
		row, err := b.st.AuditAutomationGet(ctx, b.alice.Alliance.ID)
		require.NoError(t, err)
		require.EqualValues(t, 7, row.Days)
		require.EqualValues(t, 12, row.BracketID)
		require.Equal(t, b.alice.Row.ID, row.ManagerID, "it acts with Alice's key")
	})

	t.Run("AutomationWithoutOwnKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var refused *keys.OwnRefused
		require.ErrorAs(t, b.ia.SetAutomation(ctx, b.bob, 7, 12), &refused)
		_, err := b.st.AuditAutomationGet(ctx, b.bob.Alliance.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		b.refusedOnly(t, "audit.automation", "alliance", "7", "no own key")
	})

	t.Run("AutomationWithoutBotKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.ia = b.service(t, "")
		require.ErrorIs(t, b.ia.SetAutomation(ctx, b.alice, 7, 12), ia.ErrNoBotKey)
		_, err := b.st.AuditAutomationGet(ctx, b.alice.Alliance.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		b.refusedOnly(t, "audit.automation", "alliance", "7", "no bot key")
	})

	t.Run("UndoWithoutOwnKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		mv, err := b.st.AuditMoveOpen(ctx, store.AuditMoveOpenParams{AllianceID: b.alice.Alliance.ID, NationID: carol, FromBracket: 11, ToBracket: 12})
		require.NoError(t, err)
		var refused *keys.OwnRefused
		_, err = b.ia.Undo(ctx, b.bob, mv.ID)
		require.ErrorAs(t, err, &refused)
		require.Zero(t, b.game.RequestsFor("assignTaxBracket"))
		b.refusedOnly(t, "audit.bracket_undo", "move", strconv.FormatInt(mv.ID, 10), "no own key")

		// Alice's key may: Carol goes back.
		_, err = b.ia.Undo(ctx, b.alice, mv.ID)
		require.NoError(t, err)
		require.Equal(t, 11, b.game.Nation(carol).TaxID)
	})
}
