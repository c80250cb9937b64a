package bank_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bank"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/pnw/stream"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

const officer = 50 // rose's banker, whose key the ledger reads with

type ingestBundle struct {
	st     *store.Store
	fake   *fakepnw.Server
	game   *pnw.Client
	ledger *bank.Bank
	now    func() time.Time // the bank's clock; nil: time.Now
}

// setupIngest makes a game with n alliances (ids rose, rose+1...), each
// with a banker whose key may see the bank, linked as a manager, and a
// member alice+i.
func setupIngest(t testing.TB, n int) *ingestBundle {
	t.Helper()
	ctx := context.Background()
	fake, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.AddKey("bot", 1)
	st := storetest.NewDB(t)
	game, err := pnw.New(pnw.Options{URL: fake.URL, APIKey: "bot", Usage: kv.NewUsage(st)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	ring, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)
	for i := range n {
		pnwID := rose + i*10
		fake.AddAlliance(fakepnw.Alliance{ID: pnwID, Name: fmt.Sprintf("Rose %d", i)})
		fake.AddNation(fakepnw.Nation{ID: officer + i*1000, NationName: fmt.Sprintf("Banker %d", i), AllianceID: pnwID, AlliancePosition: "OFFICER"})
		fake.AddNation(fakepnw.Nation{ID: alice + i*1000, NationName: fmt.Sprintf("Alice %d", i), AllianceID: pnwID})
		key := fmt.Sprintf("banker-key-%d", i)
		fake.AddKey(key, officer+i*1000, "alliance_view_bank")
		a, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: int64(pnwID), Name: fmt.Sprintf("Rose %d", i), RouteSlug: fmt.Sprintf("rose-%d", i)})
		require.NoError(t, err)
		storetest.AddManager(t, st, ring, a, strconv.Itoa(9000+i), key, "alliance_view_bank")
	}
	b := &ingestBundle{st: st, fake: fake, game: game}
	clock := func() time.Time {
		if b.now != nil {
			return b.now()
		}
		return time.Now()
	}
	b.ledger = bank.New(bank.Options{Store: st, Game: game, Keys: keys.New(keys.Options{Store: st, Game: game, Ring: ring, Now: clock}), Now: clock})
	return b
}

func (b *ingestBundle) alliance(t testing.TB, pnwID int) store.Alliance {
	t.Helper()
	a, err := b.st.AllianceGetByPnwID(context.Background(), int64(pnwID))
	require.NoError(t, err)
	return a
}

func (b *ingestBundle) balance(t *testing.T, nationID int64) pnw.Amounts {
	t.Helper()
	acc, err := b.ledger.Account(t.Context(), b.alliance(t, rose), nationID)
	require.NoError(t, err)
	return acc.Balance
}

func (b *ingestBundle) pass(t *testing.T) bank.IngestReport {
	t.Helper()
	r, err := b.ledger.Ingest(t.Context())
	require.NoError(t, err)
	return r
}

func TestIngest(t *testing.T) {
	t.Parallel()

	t.Run("records arriving across passes are each counted once", func(t *testing.T) {
		t.Parallel()
		b := setupIngest(t, 1)
		_, err := b.fake.Deposit(alice, pnw.Amounts{pnw.Money: 5_000_000}, "#deposit")
		require.NoError(t, err)
		r := b.pass(t)
		require.Equal(t, bank.IngestReport{Alliances: 1, Requests: 1, Read: 1, Stored: 1, Snapshots: 1}, r, "the day's holdings are kept once")
		require.Equal(t, money(5_000_000), b.balance(t, alice))

		b.fake.AddBankrec(fakepnw.Bankrec{SenderID: rose, SenderType: 2, ReceiverID: alice, ReceiverType: 1, Note: "#loan #due=2030-01-01", Resources: pnw.Amounts{pnw.Money: 1000}})
		b.fake.AddBankrec(fakepnw.Bankrec{SenderID: alice, SenderType: 1, ReceiverID: rose, ReceiverType: 2, TaxID: 3, Resources: pnw.Amounts{pnw.Money: 200}})
		r = b.pass(t)
		require.Equal(t, bank.IngestReport{Alliances: 1, Requests: 1, Read: 2, Stored: 2}, r, "only what came after the last record seen is read")
		acc, err := b.ledger.Account(t.Context(), b.alliance(t, rose), alice)
		require.NoError(t, err)
		require.Equal(t, money(5_000_000), acc.Balance, "a loan is owed, not debited; taxes credit 0% by default")
		require.Equal(t, money(1000), acc.Owed())

		r = b.pass(t)
		require.Equal(t, bank.IngestReport{Alliances: 1, Requests: 1}, r)
		n, err := b.st.BankRecordCount(t.Context(), b.alliance(t, rose).ID)
		require.NoError(t, err)
		require.EqualValues(t, 3, n)
	})

	t.Run("a failed pass loses nothing", func(t *testing.T) {
		t.Parallel()
		b := setupIngest(t, 1)
		b.pass(t)
		_, err := b.fake.Deposit(alice, pnw.Amounts{pnw.Money: 100}, "")
		require.NoError(t, err)
		b.fake.Fail(fakepnw.Failure{Status: 500})
		r := b.pass(t)
		require.Equal(t, 1, r.Failed)
		require.Zero(t, r.Stored)
		st, err := b.ledger.Status(t.Context(), b.alliance(t, rose).ID)
		require.NoError(t, err)
		require.NotEmpty(t, st.LastError, "why is kept for the bankers")
		b.fake.Fail(fakepnw.Failure{})
		r = b.pass(t)
		require.Equal(t, 1, r.Stored)
		require.Equal(t, money(100), b.balance(t, alice))
		st, err = b.ledger.Status(t.Context(), b.alliance(t, rose).ID)
		require.NoError(t, err)
		require.Empty(t, st.LastError)
	})

	t.Run("a span longer than the game's 14 days is reported", func(t *testing.T) {
		t.Parallel()
		b := setupIngest(t, 1)
		now := time.Now()
		b.now = func() time.Time { return now.Add(-15 * 24 * time.Hour) }
		b.pass(t) // the last pass, 15 days ago
		b.now = nil
		b.fake.AddBankrec(fakepnw.Bankrec{Date: now.Add(-(14*24 + 12) * time.Hour), SenderID: alice, SenderType: 1, ReceiverID: rose, ReceiverType: 2, Resources: pnw.Amounts{pnw.Money: 700}})
		b.fake.AddBankrec(fakepnw.Bankrec{Date: now.Add(-24 * time.Hour), SenderID: alice, SenderType: 1, ReceiverID: rose, ReceiverType: 2, Resources: pnw.Amounts{pnw.Money: 50}})
		r := b.pass(t)
		require.Equal(t, 1, r.Gaps)
		require.Equal(t, 1, r.Stored, "the game no longer serves the older record")
		require.Equal(t, money(50), b.balance(t, alice))
		a := b.alliance(t, rose)
		st, err := b.ledger.Status(t.Context(), a.ID)
		require.NoError(t, err)
		require.Len(t, st.Gaps, 1)
		require.WithinDuration(t, now.Add(-15*24*time.Hour), st.Gaps[0].GapFrom, time.Second)
		require.WithinDuration(t, now.Add(-14*24*time.Hour), st.Gaps[0].GapTo, time.Minute)
		logs, err := b.st.AuditLogPage(t.Context(), store.AuditLogPageParams{AllianceID: &a.ID, RowLimit: 10})
		require.NoError(t, err)
		require.Len(t, logs, 1)
		require.Equal(t, "bank.ledger_gap", logs[0].AuditLog.Action)
		require.Zero(t, b.pass(t).Gaps, "reported once")
	})

	t.Run("a record from the stream and the poll is stored once", func(t *testing.T) {
		t.Parallel()
		b := setupIngest(t, 1)
		b.pass(t)
		rec, err := b.fake.Deposit(alice, pnw.Amounts{pnw.Money: 300, pnw.Steel: 2}, "#deposit")
		require.NoError(t, err)
		streamed := pnw.Bankrec{Id: strconv.Itoa(rec.ID), Date: rec.Date.UTC().Format(time.DateTime), SenderId: strconv.Itoa(alice), SenderType: 1,
			ReceiverId: strconv.Itoa(rose), ReceiverType: 2, BankerId: strconv.Itoa(alice), Note: rec.Note, Money: 300, Steel: 2}
		n, err := b.ledger.StoreStreamed(t.Context(), []pnw.Bankrec{streamed, streamed})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, money(300).Add(steel(2)), b.balance(t, alice), "seen at once")
		r := b.pass(t)
		require.Equal(t, 1, r.Read)
		require.Zero(t, r.Stored, "the poll finds it stored")
		require.Equal(t, money(300).Add(steel(2)), b.balance(t, alice))
	})

	t.Run("more records than one answer holds take more requests", func(t *testing.T) {
		t.Parallel()
		b := setupIngest(t, 1)
		for range pnw.MaxLedgerRecords + 10 {
			b.fake.AddBankrec(fakepnw.Bankrec{SenderID: alice, SenderType: 1, ReceiverID: rose, ReceiverType: 2, Resources: pnw.Amounts{pnw.Money: 1}})
		}
		r := b.pass(t)
		require.Equal(t, 2, r.Requests)
		require.Equal(t, pnw.MaxLedgerRecords+10, r.Stored)
		require.Equal(t, money(float64(pnw.MaxLedgerRecords+10)), b.balance(t, alice))
	})

	t.Run("a snapshot of the holdings is kept once a day", func(t *testing.T) {
		t.Parallel()
		b := setupIngest(t, 1)
		b.fake.SetTradePrices(fakepnw.TradePrice{Resource: "steel", AveragePrice: 3000})
		_, err := b.fake.Deposit(alice, pnw.Amounts{pnw.Money: 1000, pnw.Steel: 2}, "")
		require.NoError(t, err)
		require.Equal(t, 1, b.pass(t).Snapshots)
		_, err = b.fake.Deposit(alice, pnw.Amounts{pnw.Money: 1000}, "")
		require.NoError(t, err)
		require.Zero(t, b.pass(t).Snapshots)
		snaps, err := b.st.BankSnapshotList(t.Context(), store.BankSnapshotListParams{AllianceID: b.alliance(t, rose).ID, Since: time.Now().AddDate(0, 0, -30)})
		require.NoError(t, err)
		require.Len(t, snaps, 1)
		require.Equal(t, time.Now().UTC().Truncate(24*time.Hour), snaps[0].Day.UTC())
		require.JSONEq(t, `{"money": 1000, "steel": 2}`, string(snaps[0].Holdings))
		require.Equal(t, 7000.0, snaps[0].Value)
	})

	t.Run("the requests spent are in the usage log", func(t *testing.T) {
		t.Parallel()
		b := setupIngest(t, 2)
		r := b.pass(t)
		require.Equal(t, 2, r.Requests)
		require.NoError(t, b.game.Close(t.Context())) // flushes the usage log
		var n int
		require.NoError(t, b.st.Pool.QueryRow(t.Context(), `SELECT count(*) FROM api_usage_logs WHERE endpoint = 'allianceLedger' AND alliance_id IS NOT NULL`).Scan(&n))
		require.Equal(t, 2, n)
	})
}

// BenchmarkIngest measures a pass over 50 alliances against the fake game,
// each with 40 new records (one request each, bank and tax records
// together): the figures are per pass.
func BenchmarkIngest(b *testing.B) {
	const alliances, perAlliance = 50, 40
	bb := setupIngest(b, alliances)
	// The first pass of a day also keeps each alliance's holdings: not measured.
	if r, err := bb.ledger.Ingest(context.Background()); err != nil || r.Snapshots != alliances {
		b.Fatalf("first pass: %+v, %v", r, err)
	}
	var records, requests int
	for b.Loop() {
		b.StopTimer()
		for i := range alliances {
			for range perAlliance {
				bb.fake.AddBankrec(fakepnw.Bankrec{SenderID: alice + i*1000, SenderType: 1, ReceiverID: rose + i*10, ReceiverType: 2,
					Note: "#deposit", Resources: pnw.Amounts{pnw.Money: 10}})
			}
		}
		b.StartTimer()
		r, err := bb.ledger.Ingest(context.Background())
		if err != nil || r.Stored != alliances*perAlliance || r.Failed != 0 {
			b.Fatalf("pass: %+v, %v", r, err)
		}
		records += r.Stored
		requests += r.Requests
	}
	b.ReportMetric(float64(records)/float64(requests), "records/request")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/pass")
}

func TestFollow(t *testing.T) {
	t.Parallel()
	b := setupIngest(t, 2)
	b.pass(t) // the ledgers exist
	subs, err := fakepnw.NewSubscriptions(b.fake)
	require.NoError(t, err)
	t.Cleanup(subs.Close)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.ledger.Follow(ctx, func(key string) *stream.Client {
			return stream.New(stream.Options{SubscriptionsURL: subs.URL, SocketURL: subs.SocketURL, APIKey: key})
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	wait, stop := context.WithTimeout(t.Context(), time.Minute)
	defer stop()
	require.NoError(t, subs.WaitListeners(wait, 2, 2), "one stream per alliance, sent and received")

	_, err = subs.Deposit(alice, pnw.Amounts{pnw.Money: 5_000_000}, "#deposit")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.balance(t, alice) == money(5_000_000) }, 30*time.Second, 20*time.Millisecond,
		"a deposit is in the ledger within seconds, before any pass")
	r := b.pass(t)
	require.Equal(t, 1, r.Read)
	require.Zero(t, r.Stored, "the pass finds it stored: counted once")
	require.Equal(t, money(5_000_000), b.balance(t, alice))
}
