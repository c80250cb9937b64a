package commands_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/commands"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// dmRecorder stands in for the bot's direct messages.
type dmRecorder struct {
	mu   sync.Mutex
	sent map[string][]*bot.Response
}

func (r *dmRecorder) DirectMessage(_ context.Context, userID string, msg *bot.Response) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent == nil {
		r.sent = map[string][]*bot.Response{}
	}
	r.sent[userID] = append(r.sent[userID], msg)
	return nil
}

func (r *dmRecorder) to(userID string) []*bot.Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[userID]
}

// linkAllianceKey stores key as the manager's alliance key, as /alliance
// key does once the game accepts it.
func (b *testBundle) linkAllianceKey(t *testing.T, a store.Alliance, discordID, key string, perms ...string) {
	t.Helper()
	b.sealAllianceKey(t, b.keys, a, discordID, key, perms...)
}

// sealAllianceKey is linkAllianceKey with the key sealed by kr.
func (b *testBundle) sealAllianceKey(t *testing.T, kr *secrets.Keyring, a store.Alliance, discordID, key string, perms ...string) {
	t.Helper()
	ctx := context.Background()
	u := b.user(t, discordID)
	m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: a.ID})
	require.NoError(t, err)
	storetest.SetAllianceKey(t, b.st, kr, u, m, key, perms...)
}

func TestAllianceMembers(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	b.setUp(t)
	for i := range 22 {
		n := fakepnw.Nation{ID: 5000 + i, NationName: fmt.Sprintf("Member %02d", i), LeaderName: "L", AllianceID: rose,
			Score: float64(1000 + i), NumCities: 30 - i, LastActive: time.Now().Add(-time.Duration(i) * time.Hour)}
		switch i {
		case 3:
			n.AlliancePosition = "APPLICANT"
		case 4:
			n.VacationModeTurns = 12
		}
		b.game.AddNation(n)
	}
	members := func(vars ...string) (*bot.Response, error) {
		return b.in(t, "alliance_members", append(vars, "sort", "score", "filter", "all")...)
	}

	resp, err := members()
	require.NoError(t, err)
	require.True(t, resp.Ephemeral)
	e := resp.Embeds[0]
	require.Len(t, e.Fields, 10)
	require.Contains(t, e.Footer.Text, "Page 1 of 3 · 25 in all")
	require.Contains(t, e.Fields[0].Name, "Member 21", "highest score first")

	resp, err = b.in(t, "alliance_members", "sort", "score", "filter", "vacation")
	require.NoError(t, err)
	require.Len(t, resp.Embeds[0].Fields, 1)
	require.Contains(t, embedText(resp.Embeds[0]), "🏖️ vacation mode")

	resp, err = members("sort", "cities", "filter", "applicants")
	require.NoError(t, err)
	require.Len(t, resp.Embeds[0].Fields, 1)
	require.Contains(t, embedText(resp.Embeds[0]), "📝 applicant")
	require.Nil(t, resp.Components, "one page, no buttons")

	// The Discord user shows when the nation is linked.
	resp, err = members("sort", "cities")
	require.NoError(t, err)
	next := buttonID(t, resp, 1)
	resp, err = b.in(t, "alliance_button", "custom_id", next)
	require.NoError(t, err)
	require.Equal(t, bot.TypeUpdate, resp.Type)
	require.Contains(t, resp.Embeds[0].Footer.Text, "Page 2 of 3")
	text := embedText(resp.Embeds[0])
	resp, err = b.in(t, "alliance_button", "custom_id", buttonID(t, resp, 1))
	require.NoError(t, err)
	text += embedText(resp.Embeds[0])
	require.Contains(t, text, "<@"+bobID+">", "Bob's nation is linked to him")

	// Only the caller turns the pages.
	before := b.game.Requests()
	_, err = b.in(t, "alliance_button", "custom_id", next, "user", bobID)
	require.ErrorContains(t, err, "Only the person who ran this command")
	require.Equal(t, before, b.game.Requests())

	// A page is a fresh read of cached data: the members list costs one
	// request until its cache expires.
	require.Equal(t, 1, b.game.RequestsFor("allianceMembers"))

	// And three queries: the caller, the server's alliance with the
	// caller's manager row there, the page's linked users.
	counted, queries := storetest.Counted(t, b.st)
	b.router = build(wiring{Deps: commands.Deps{Store: counted, Game: b.client, Keys: b.keys}}).Router()
	_, err = members()
	require.NoError(t, err)
	require.EqualValues(t, 3, queries.N())
	for _, name := range []string{"UserGetCaller", "AllianceGetByGuildForUser", "UserListByNationIDs"} {
		require.EqualValues(t, 1, queries.Named(name), name)
	}
}

func TestAllianceBank(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Rose in one server with Alice's key, Thorn in another with Bob's.
	twoAlliances := func(t *testing.T) (*testBundle, store.Alliance, store.Alliance) {
		_, b := setup(t)
		rows := b.setUp(t)
		b.game.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Bank: pnw.Amounts{pnw.Money: 1_000_000, pnw.Food: 500}})
		b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn", Bank: pnw.Amounts{pnw.Money: 7_777, pnw.Steel: 3}})
		b.game.SetTradePrices(fakepnw.TradePrice{Resource: "food", AveragePrice: 100}, fakepnw.TradePrice{Resource: "steel", AveragePrice: 4000})
		b.game.AddKey(bobKey, bobNation, "alliance_view_bank")
		b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", AllianceID: thorn, AlliancePosition: "LEADER"})
		_, err := b.serve(t, "alliance_setup", "user", bobID, "guild", otherGuild)
		require.NoError(t, err)
		thorns, err := b.st.AllianceGetByPnwID(ctx, thorn)
		require.NoError(t, err)
		b.linkAllianceKey(t, rows, aliceID, aliceKey, "alliance_view_bank")
		b.linkAllianceKey(t, thorns, bobID, bobKey, "alliance_view_bank")
		return b, rows, thorns
	}

	t.Run("EachServerSeesItsOwnBank", func(t *testing.T) {
		t.Parallel()
		b, _, _ := twoAlliances(t)
		resp, err := b.in(t, "alliance_bank")
		require.NoError(t, err)
		text := embedText(resp.Embeds[0])
		require.Contains(t, text, "Bank of Rose")
		require.Contains(t, text, "1,000,000")
		require.Contains(t, text, "$50,000", "500 food at $100")
		require.Contains(t, text, "$1,050,000** in all")

		resp, err = b.serve(t, "alliance_bank", "user", bobID, "guild", otherGuild)
		require.NoError(t, err)
		text = embedText(resp.Embeds[0])
		require.Contains(t, text, "Bank of Thorn")
		require.Contains(t, text, "7,777")
		require.NotContains(t, text, "1,000,000")

		// Cached per alliance: the second look costs nothing.
		_, err = b.in(t, "alliance_bank")
		require.NoError(t, err)
		require.Equal(t, 2, b.game.RequestsFor("allianceBank"))
	})

	t.Run("NeverAnotherAlliancesKey", func(t *testing.T) {
		t.Parallel()
		b, rows, _ := twoAlliances(t)
		// Warm Thorn's bank in the cache, then take Rose's only key away.
		_, err := b.serve(t, "alliance_bank", "user", bobID, "guild", otherGuild)
		require.NoError(t, err)
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, aliceID).ID, AllianceID: rows.ID})
		require.NoError(t, err)
		require.NoError(t, b.st.AllianceManagerClearKey(ctx, m.ID))
		// Alice's own member key may see Rose's bank too: it is not used.
		_, err = b.in(t, "alliance_bank")
		require.ErrorContains(t, err, "No manager of Rose has an alliance key that may see the bank")
		require.Equal(t, 1, b.game.RequestsFor("allianceBank"))
	})

	t.Run("RefusedKeyMarkedAndOwnerToldOnce", func(t *testing.T) {
		t.Parallel()
		b, rows, _ := twoAlliances(t)
		dms := &dmRecorder{}
		b.with(func(d *wiring) { d.DM = dms })
		b.manage(t, rows, carolID, "manager", nil)
		b.linkAllianceKey(t, rows, carolID, "revokedkey0000000000", "alliance_view_bank")             // the game does not know it
		b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", AllianceID: thorn}) // Alice's key can no longer see Rose's bank
		_, err := b.in(t, "alliance_bank")
		require.ErrorContains(t, err, "No manager of Rose")
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, carolID).ID, AllianceID: rows.ID})
		require.NoError(t, err)
		require.NotNil(t, m.KeyRevokedAt)
		require.Len(t, dms.to(carolID), 1)
		require.Contains(t, dms.to(carolID)[0].Content, "refused your alliance key for **Rose**")
		_, err = b.in(t, "alliance_bank")
		require.Error(t, err)
		require.Len(t, dms.to(carolID), 1, "told once")
		require.Empty(t, dms.to(aliceID), "a key that may not see the bank is not revoked")
	})
}

func TestAllianceRecords(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	a := b.setUp(t)
	b.linkAllianceKey(t, a, aliceID, aliceKey, "alliance_view_bank")
	now := time.Now()
	b.game.AddBankrec(fakepnw.Bankrec{ID: 1, Date: now.Add(-3 * time.Hour), SenderID: bobNation, SenderType: 1, ReceiverID: rose, ReceiverType: 2,
		Resources: pnw.Amounts{pnw.Money: 5000, pnw.Food: 10}, Note: "deposit"})
	b.game.AddBankrec(fakepnw.Bankrec{ID: 2, Date: now.Add(-2 * time.Hour), SenderID: rose, SenderType: 2, ReceiverID: carolNat, ReceiverType: 1,
		Resources: pnw.Amounts{pnw.Money: 2000}})
	b.game.AddBankrec(fakepnw.Bankrec{ID: 3, Date: now.Add(-time.Hour), SenderID: bobNation, SenderType: 1, ReceiverID: rose, ReceiverType: 2,
		TaxID: 9, Resources: pnw.Amounts{pnw.Money: 300, pnw.Steel: 2}})

	resp, err := b.in(t, "alliance_bank_history", "nation", "", "limit", "50")
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "Net for the alliance: +$3,000 · +10 food")
	require.Contains(t, text, "deposit")
	require.NotContains(t, text, "#3", "tax records are apart")
	require.Regexp(t, `(?s)#2 .*#1 `, text, "newest first")

	resp, err = b.in(t, "alliance_bank_history", "nation", fmt.Sprint(carolNat), "limit", "50")
	require.NoError(t, err)
	text = embedText(resp.Embeds[0])
	require.Contains(t, text, "Net for the alliance: −$2,000")
	require.NotContains(t, text, "#1 ")

	resp, err = b.in(t, "alliance_taxes")
	require.NoError(t, err)
	text = embedText(resp.Embeds[0])
	require.Contains(t, text, "Tax records of Rose")
	require.Contains(t, text, "+$300 · +2 steel")
}

func TestAllianceWarsAndTrades(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	a := b.setUp(t)
	b.linkAllianceKey(t, a, aliceID, aliceKey)
	b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn"})
	b.game.AddNation(fakepnw.Nation{ID: 6001, NationName: "Thornland", AllianceID: thorn})
	b.game.AddWar(fakepnw.War{ID: 1, Date: time.Now(), WarType: "RAID", TurnsLeft: 40, AttID: aliceNation, AttAllianceID: rose, DefID: 6001,
		DefAllianceID: thorn, AttResistance: 90, DefResistance: 40})
	b.game.AddWar(fakepnw.War{ID: 2, Date: time.Now(), WarType: "ORDINARY", TurnsLeft: 10, AttID: 6001, AttAllianceID: thorn, DefID: bobNation,
		DefAllianceID: rose, AttResistance: 100, DefResistance: 100})
	b.game.AddWar(fakepnw.War{ID: 3, Date: time.Now(), Ended: time.Now(), AttID: aliceNation, AttAllianceID: rose, DefID: 6001, DefAllianceID: thorn})
	b.game.AddTrade(fakepnw.Trade{ID: 77, Type: "GLOBAL", Date: time.Now(), SenderID: bobNation, ReceiverID: 6001, OfferResource: "food",
		OfferAmount: 1000, BuyOrSell: "sell", Price: 120, Accepted: true, DateAccepted: time.Now()})

	resp, err := b.in(t, "alliance_wars")
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "1 offensive · 1 defensive", "ended wars are left out")
	require.Contains(t, text, "Aliceland vs Thornland")
	require.Contains(t, text, "Aliceland is winning")
	require.Contains(t, text, "Raid war · 40 turns left")

	resp, err = b.in(t, "alliance_trades")
	require.NoError(t, err)
	text = embedText(resp.Embeds[0])
	require.Contains(t, text, "#77 · sell 1,000 food")
	require.Contains(t, text, "$120 each")
}

// strangerKeyring is a keyring with another master key than the bot's: what
// a process still running with an old ENCRYPTION_KEY seals with.
func strangerKeyring(t *testing.T) *secrets.Keyring {
	t.Helper()
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	kr, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)
	return kr
}
