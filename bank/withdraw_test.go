package bank_test

import (
	"context"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bank"
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
	bobKey     = "bobkey00000000000000"
	rose       = 7
	alice      = 101 // nations
	bob        = 102
	carol      = 103
)

// bundle is a bank on its own database and fake game, with Rose's bank
// holding $1,000,000, 5,000 food and 300 steel, and Alice and Bob its
// managers with keys that may withdraw.
type bundle struct {
	st     *store.Store
	game   *fakepnw.Server
	client *pnw.Client
	keys   *keys.Keys
	bank   *bank.Bank
	rose   store.Alliance
	now    time.Time
	alice  keys.Actor
	bob    keys.Actor
	// manager makes a Discord user a manager of Rose with a key.
	manager func(discordID string, nation int, key string) keys.Actor
}

func setup(t *testing.T, opts pnw.Options) *bundle {
	t.Helper()
	ctx := context.Background()
	fake, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.AddKey(botKey, 1)
	fake.SetBotKey(gameBotKey)
	fake.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Bank: pnw.Amounts{pnw.Money: 1_000_000, pnw.Food: 5_000, pnw.Steel: 300}})
	fake.AddNation(fakepnw.Nation{ID: alice, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "LEADER"})
	fake.AddNation(fakepnw.Nation{ID: bob, NationName: "Bobistan", LeaderName: "Bob", AllianceID: rose, AlliancePosition: "OFFICER"})
	fake.AddNation(fakepnw.Nation{ID: carol, NationName: "Carolina", LeaderName: "Carol"})
	fake.SetTradePrices(fakepnw.TradePrice{Resource: "food", AveragePrice: 100}, fakepnw.TradePrice{Resource: "steel", AveragePrice: 3000})
	opts.URL, opts.APIKey, opts.BotKey = fake.URL, botKey, gameBotKey
	game, err := pnw.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(ctx) })
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	ring, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)

	b := &bundle{st: storetest.NewDB(t), game: fake, client: game, now: time.Now()}
	b.rose, err = b.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	manager := func(discordID string, nation int, key string) keys.Actor {
		fake.AddKey(key, nation, "alliance_view_bank", "alliance_withdraw_bank")
		u, m := storetest.AddManager(t, b.st, ring, b.rose, discordID, key, "alliance_view_bank", "alliance_withdraw_bank")
		return keys.Actor{User: u, Alliance: b.rose, Row: &m}
	}
	b.manager = manager
	b.alice, b.bob = manager("1001", alice, aliceKey), manager("1002", bob, bobKey)
	clock := func() time.Time { return b.now }
	b.keys = keys.New(keys.Options{Store: b.st, Game: game, Ring: ring, Now: clock})
	b.bank = bank.New(bank.Options{Store: b.st, Game: game, Keys: b.keys, Now: clock, Cap: 2_000_000, AllianceCap: 3_000_000})
	return b
}

func money(v float64) pnw.Amounts { return pnw.Amounts{pnw.Money: v} }

// ask records a pending withdrawal by Alice to Carol.
func (b *bundle) ask(t *testing.T, a pnw.Amounts) store.Withdrawal {
	t.Helper()
	w, err := b.bank.Ask(context.Background(), b.alice, carol, a, " rent ")
	require.NoError(t, err)
	require.Equal(t, bank.Pending, w.State)
	return w
}

// id is the withdrawal's id as its buttons carry it.
func id(w store.Withdrawal) string { return strconv.FormatInt(w.ID, 10) }

// life lists the audit actions of a withdrawal, oldest first.
func (b *bundle) life(t *testing.T, w store.Withdrawal) []string {
	t.Helper()
	rows, err := b.st.AuditLogList(context.Background(), store.AuditLogListParams{RowLimit: 100})
	require.NoError(t, err)
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		if r := rows[i]; r.ResourceType == "withdrawal" && r.ResourceID == id(w) && r.Success {
			out = append(out, r.Action)
		}
	}
	return out
}

func TestWithdrawal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AskedConfirmedSentOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		w := b.ask(t, pnw.Amounts{pnw.Money: 500, pnw.Food: 10})
		require.Equal(t, "Carolina", w.ReceiverName)
		require.Equal(t, "rent", w.Note)
		require.InDelta(t, 1500, w.Value, 0.001, "money plus food at its average price")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"), "nothing moves before the confirmation")

		sent, err := b.bank.Confirm(ctx, b.alice, id(w))
		require.NoError(t, err)
		require.Equal(t, bank.Sent, sent.State)
		require.NotNil(t, sent.BankrecID)
		require.Equal(t, 999_500.0, b.game.Alliance(rose).Bank[pnw.Money])
		require.Equal(t, 4_990.0, b.game.Alliance(rose).Bank[pnw.Food])

		again, err := b.bank.Confirm(ctx, b.alice, id(w))
		require.NoError(t, err, "a second click is told the state")
		require.Equal(t, bank.Sent, again.State)
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))
		require.Equal(t, []string{"alliance.withdraw_pending", "alliance.withdraw_sending", "alliance.withdraw_sent"}, b.life(t, w))
	})

	t.Run("ConcurrentClicksSendOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		w := b.ask(t, money(100))
		var wg sync.WaitGroup
		states := make(chan string, 8)
		for range 8 {
			wg.Go(func() {
				got, err := b.bank.Confirm(ctx, b.alice, id(w))
				require.NoError(t, err)
				states <- got.State
			})
		}
		wg.Wait()
		close(states)
		for s := range states {
			require.Contains(t, []string{bank.Sent, bank.Sending}, s)
		}
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))
		require.Equal(t, 999_900.0, b.game.Alliance(rose).Bank[pnw.Money])
	})

	t.Run("CancelledThenNeverSent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		w := b.ask(t, money(100))
		got, err := b.bank.Cancel(ctx, b.alice, id(w))
		require.NoError(t, err)
		require.Equal(t, bank.Cancelled, got.State)
		got, err = b.bank.Confirm(ctx, b.alice, id(w))
		require.NoError(t, err)
		require.Equal(t, bank.Cancelled, got.State)
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		w := b.ask(t, money(100))
		b.now = b.now.Add(bank.ConfirmTTL + time.Second)
		got, err := b.bank.Confirm(ctx, b.alice, id(w))
		require.NoError(t, err)
		require.Equal(t, bank.Expired, got.State)
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
		require.Equal(t, []string{"alliance.withdraw_pending", "alliance.withdraw_expired"}, b.life(t, w))
	})

	t.Run("TimeoutIsUnknownNeverRetried", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{Timeout: 200 * time.Millisecond})
		w := b.ask(t, money(100))
		release := b.game.Hold("bankWithdraw")
		got, err := b.bank.Confirm(ctx, b.alice, id(w))
		release()
		require.NoError(t, err)
		require.Equal(t, bank.Unknown, got.State)
		got, err = b.bank.Confirm(ctx, b.alice, id(w))
		require.NoError(t, err)
		require.Equal(t, bank.Unknown, got.State)
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("StuckSendingSettledUnknown", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		stuck := b.ask(t, money(100))
		pending := b.ask(t, money(5))
		// A process claimed it and stopped before sending.
		_, err := b.st.WithdrawalClaim(ctx, store.WithdrawalClaimParams{ID: stuck.ID, Now: b.now})
		require.NoError(t, err)
		n, err := b.bank.Settle(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "still within any handler's time, and the other not yet expired")

		b.now = b.now.Add(10 * time.Minute)
		n, err = b.bank.Settle(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		for w, want := range map[int64]string{stuck.ID: bank.Unknown, pending.ID: bank.Expired} {
			got, err := b.st.WithdrawalGet(ctx, w)
			require.NoError(t, err)
			require.Equal(t, want, got.State)
		}
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("GameRefusesFailed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		w := b.ask(t, money(100))
		b.game.Fail(fakepnw.Failure{Message: "Your alliance does not have enough money.", Times: 1, Op: "bankWithdraw"})
		got, err := b.bank.Confirm(ctx, b.alice, id(w))
		require.NoError(t, err)
		require.Equal(t, bank.Failed, got.State)
		require.Equal(t, "the game refused it: Your alliance does not have enough money.", *got.Error)
		require.Equal(t, 1_000_000.0, b.game.Alliance(rose).Bank[pnw.Money])
	})

	t.Run("UnprovenRefusalIsUnknown", func(t *testing.T) {
		t.Parallel()
		// Words the game is not known to refuse with, a 3xx or another
		// 4xx may come from after the money moved: unknown, never
		// "failed, ask again".
		for _, f := range []fakepnw.Failure{{Message: "Something went wrong."}, {Status: 302}, {Status: 400}, {Status: 422, Message: "Unprocessable."}} {
			b := setup(t, pnw.Options{})
			w := b.ask(t, money(100))
			f.Times, f.Op = 1, "bankWithdraw"
			b.game.Fail(f)
			got, err := b.bank.Confirm(ctx, b.alice, id(w))
			require.NoError(t, err)
			require.Equal(t, bank.Unknown, got.State, "%+v", f)
		}
	})

	t.Run("OnlyTheRequesterConfirms", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		w := b.ask(t, money(100))
		_, err := b.bank.Confirm(ctx, b.bob, id(w))
		var refused *bank.Refused
		require.ErrorAs(t, err, &refused)
		require.Equal(t, "not the requester", refused.Reason)
		_, err = b.bank.Confirm(ctx, b.alice, "not-a-number")
		require.ErrorAs(t, err, &refused)
		require.Equal(t, "broken button", refused.Reason)
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("DailyCap", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		first := b.ask(t, money(900_000))
		second := b.ask(t, money(900_000))
		_, err := b.bank.Confirm(ctx, b.alice, id(first))
		require.NoError(t, err)
		// Both were under the cap when asked; together they are not.
		b.bank = bank.New(bank.Options{Store: b.st, Game: b.client, Keys: b.keys, Now: func() time.Time { return b.now }, Cap: 1_000_000, AllianceCap: 3_000_000})
		_, err = b.bank.Confirm(ctx, b.alice, id(second))
		var refused *bank.Refused
		require.ErrorAs(t, err, &refused)
		require.Equal(t, "daily cap", refused.Reason)
		require.Contains(t, refused.Message, "you may withdraw $100,000 more")
		got, err := b.st.WithdrawalGet(ctx, second.ID)
		require.NoError(t, err)
		require.Equal(t, bank.Pending, got.State)
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("AllianceCap", func(t *testing.T) {
		t.Parallel()
		// Each manager is under their own cap; together they are not.
		b := setup(t, pnw.Options{})
		b.bank = bank.New(bank.Options{Store: b.st, Game: b.client, Keys: b.keys, Now: func() time.Time { return b.now }, Cap: 100_000, AllianceCap: 150_000})
		w := b.ask(t, money(90_000))
		_, err := b.bank.Confirm(ctx, b.alice, id(w))
		require.NoError(t, err)
		_, err = b.bank.Ask(ctx, b.bob, carol, money(90_000), "")
		var refused *bank.Refused
		require.ErrorAs(t, err, &refused)
		require.Equal(t, "daily cap", refused.Reason)
		require.Contains(t, refused.Message, "above Rose's daily cap: you may withdraw $60,000 more")
		_, err = b.bank.Ask(ctx, b.bob, carol, money(60_000), "")
		require.NoError(t, err)
	})

	t.Run("SpendSurvivesDeleteAndReAdd", func(t *testing.T) {
		t.Parallel()
		// Alice spends most of her cap, deletes her account and comes
		// back as a manager: what she withdrew still counts.
		b := setup(t, pnw.Options{})
		b.bank = bank.New(bank.Options{Store: b.st, Game: b.client, Keys: b.keys, Now: func() time.Time { return b.now }, Cap: 100_000, AllianceCap: 300_000})
		w := b.ask(t, money(90_000))
		_, err := b.bank.Confirm(ctx, b.alice, id(w))
		require.NoError(t, err)
		require.NoError(t, b.st.DeleteAccount(ctx, b.alice.User.ID, store.AuditLogInsertParams{Action: "user.delete", Success: true}))
		again := b.manager("1001", alice, aliceKey+"2")
		_, err = b.bank.Ask(ctx, again, carol, money(90_000), "")
		var refused *bank.Refused
		require.ErrorAs(t, err, &refused)
		require.Contains(t, refused.Message, "above your daily cap: you may withdraw $10,000 more")
	})

	t.Run("AboveTheBank", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		_, err := b.bank.Ask(ctx, b.alice, carol, pnw.Amounts{pnw.Steel: 301}, "")
		var refused *bank.Refused
		require.ErrorAs(t, err, &refused)
		require.Equal(t, "The bank holds less than that: it holds 300 steel. Nothing was withdrawn.", refused.Message)
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amounts pnw.Amounts
		note    string
		want    string
	}{
		{pnw.Amounts{}, "", "Give at least one amount above zero"},
		{pnw.Amounts{pnw.Coal: -1}, "", "The amount of coal is negative"},
		{pnw.Amounts{pnw.Food: math.NaN()}, "", "The amount of food is not a number"},
		{pnw.Amounts{pnw.Money: math.Inf(1)}, "", "The amount of money is not a number"},
		{pnw.Amounts{pnw.Money: 2e13}, "", "The amount of money is too large: at most 10,000,000,000,000"},
		{pnw.Amounts{pnw.Steel: 1.005}, "", "The amount of steel has more than two decimals"},
		{money(1), string(make([]rune, 101)), "The note is too long: at most 100 characters"},
	} {
		_, err := bank.Check(tc.amounts, tc.note)
		var invalid *bank.Invalid
		require.ErrorAs(t, err, &invalid, tc.want)
		require.Contains(t, invalid.Message, tc.want)
	}
	note, err := bank.Check(pnw.Amounts{pnw.Money: 10.25, pnw.Aluminum: 3}, "  for the war  ")
	require.NoError(t, err)
	require.Equal(t, "for the war", note)
}
