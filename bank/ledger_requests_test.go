package bank_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bank"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

// member makes Carol a member of Rose with an account, and her deposit.
func (b *bundle) member(t *testing.T, deposit float64) bank.Member {
	t.Helper()
	ctx := context.Background()
	b.game.AddNation(fakepnw.Nation{ID: carol, NationName: "Carolina", LeaderName: "Carol", AllianceID: rose})
	u, err := b.st.UserCreate(ctx, store.UserCreateParams{DiscordID: "1003", KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	if deposit > 0 {
		_, err = b.game.Deposit(carol, pnw.Amounts{pnw.Money: deposit}, "#deposit")
		require.NoError(t, err)
	}
	b.ingest(t)
	return bank.Member{User: u, Alliance: b.rose, NationID: carol, NationName: "Carolina"}
}

var interactions atomic.Int64

// interaction is a new Discord interaction id.
func interaction() string { return strconv.FormatInt(interactions.Add(1), 10) }

func (b *bundle) ingest(t *testing.T) {
	t.Helper()
	r, err := b.bank.Ingest(context.Background())
	require.NoError(t, err)
	require.Zero(t, r.Failed)
}

func (b *bundle) balance(t *testing.T) *bank.Account {
	t.Helper()
	acc, err := b.bank.Account(context.Background(), b.rose, carol)
	require.NoError(t, err)
	return acc
}

// sentTo lists the bank records the alliance sent Carol.
func (b *bundle) sentTo(t *testing.T) []string {
	t.Helper()
	var notes []string
	recs, err := b.client.AllianceRecordsSince(context.Background(), aliceKey, rose, 0, 0)
	require.NoError(t, err)
	for _, r := range recs.Bank {
		if r.SenderType == 2 && r.ReceiverId == "103" {
			notes = append(notes, r.Note)
		}
	}
	return notes
}

func TestRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a withdraw request is sent from the balance with #deposit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 500_000)
		r, err := b.bank.AskRequest(ctx, m, interaction(), bank.RequestWithdraw, money(300_000), "new city", time.Time{})
		require.NoError(t, err)
		require.Equal(t, bank.RequestPending, r.State)
		r, w, err := b.bank.Approve(ctx, b.alice, r.ID)
		require.NoError(t, err)
		require.Equal(t, bank.RequestApproved, r.State)
		require.Equal(t, bank.Sent, w.State)
		require.Equal(t, []string{"#deposit request 1: new city"}, b.sentTo(t))
		b.ingest(t)
		acc := b.balance(t)
		require.Equal(t, money(200_000), acc.Balance, "the record that came back is a withdrawal")
		require.Equal(t, money(300_000), acc.Withdrawals)
	})

	t.Run("a withdraw request above the balance is refused when asked", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 100)
		_, err := b.bank.AskRequest(ctx, m, interaction(), bank.RequestWithdraw, money(101), "more", time.Time{})
		var over *bank.OverBalance
		require.ErrorAs(t, err, &over)
		require.Contains(t, err.Error(), "holds $100 for you")
	})

	t.Run("and when approved, counting what is on its way", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 500)
		first, err := b.bank.AskRequest(ctx, m, interaction(), bank.RequestWithdraw, money(300), "one", time.Time{})
		require.NoError(t, err)
		second, err := b.bank.AskRequest(ctx, m, interaction(), bank.RequestWithdraw, money(300), "two", time.Time{})
		require.NoError(t, err, "each alone fits the balance")
		_, _, err = b.bank.Approve(ctx, b.alice, first.ID)
		require.NoError(t, err)
		_, _, err = b.bank.Approve(ctx, b.bob, second.ID)
		var refused *bank.Refused
		require.ErrorAs(t, err, &refused, "the first is spoken for before the ledger sees it come back")
		require.Contains(t, refused.Message, "may still withdraw ($200)")
		b.ingest(t)
		_, _, err = b.bank.Approve(ctx, b.bob, second.ID)
		require.ErrorAs(t, err, &refused, "nor once it came back")
		got, err := b.st.BankRequestGet(ctx, second.ID)
		require.NoError(t, err)
		require.Equal(t, bank.RequestPending, got.State, "a banker may still deny it")
		require.Len(t, b.sentTo(t), 1)
	})

	t.Run("approved twice at once it is sent once", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 0)
		r, err := b.bank.AskRequest(ctx, m, interaction(), bank.RequestGrant, money(1000), "war chest", time.Time{})
		require.NoError(t, err)
		var wg sync.WaitGroup
		var mu sync.Mutex
		sent, decided := 0, 0
		for i := range 4 {
			banker := b.alice
			if i%2 == 1 {
				banker = b.bob
			}
			wg.Go(func() {
				_, w, err := b.bank.Approve(ctx, banker, r.ID)
				mu.Lock()
				defer mu.Unlock()
				var d *bank.Decided
				switch {
				case err == nil && w.State == bank.Sent:
					sent++
				case errors.As(err, &d):
					decided++
				default:
					t.Errorf("approve: %v, %+v", err, w)
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, sent)
		require.Equal(t, 3, decided)
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))
		require.Equal(t, []string{"#grant request 1: war chest"}, b.sentTo(t))
		b.ingest(t)
		acc := b.balance(t)
		require.Equal(t, money(1000), acc.Grants, "it shows under grants")
		require.True(t, acc.Balance.IsZero(), "not debited")
	})

	t.Run("a loan goes with its due date and is owed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 0)
		due := time.Now().UTC().AddDate(0, 1, 0).Truncate(24 * time.Hour)
		r, err := b.bank.AskRequest(ctx, m, interaction(), bank.RequestLoan, money(5000), "rebuild", due)
		require.NoError(t, err)
		_, _, err = b.bank.Approve(ctx, b.alice, r.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"#loan #due=" + due.Format(time.DateOnly) + " request 1: rebuild"}, b.sentTo(t))
		b.ingest(t)
		acc := b.balance(t)
		require.Equal(t, money(5000), acc.Owed())
		require.Equal(t, due, acc.Loans[0].Due)
	})

	t.Run("denied, it is never sent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 0)
		r, err := b.bank.AskRequest(ctx, m, interaction(), bank.RequestGrant, money(10), "x", time.Time{})
		require.NoError(t, err)
		r, err = b.bank.Deny(ctx, b.bob, r.ID)
		require.NoError(t, err)
		require.Equal(t, bank.RequestDenied, r.State)
		_, _, err = b.bank.Approve(ctx, b.alice, r.ID)
		var d *bank.Decided
		require.ErrorAs(t, err, &d)
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("an approval that sends nothing gives the request back", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 0)
		r, err := b.bank.AskRequest(ctx, m, interaction(), bank.RequestGrant, money(5_000_000), "too much", time.Time{})
		require.NoError(t, err)
		_, _, err = b.bank.Approve(ctx, b.alice, r.ID)
		var refused *bank.Refused
		require.ErrorAs(t, err, &refused, "the bank holds $1,000,000")
		got, err := b.st.BankRequestGet(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, bank.RequestPending, got.State)
	})

	t.Run("asked again by the same interaction, it is recorded once", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 500)
		id := interaction()
		first, err := b.bank.AskRequest(ctx, m, id, bank.RequestWithdraw, money(400), "one", time.Time{})
		require.NoError(t, err)
		_, err = b.bank.AskRequest(ctx, m, id, bank.RequestWithdraw, money(400), "one", time.Time{})
		var repeated *bank.Repeated
		require.ErrorAs(t, err, &repeated)
		require.Contains(t, err.Error(), "Request #1 is already recorded")
		_, _, err = b.bank.Approve(ctx, b.alice, first.ID)
		require.NoError(t, err)
		var n int
		require.NoError(t, b.st.Pool.QueryRow(ctx, `SELECT count(*) FROM bank_requests`).Scan(&n))
		require.Equal(t, 1, n)
		require.NoError(t, b.st.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_logs WHERE action = 'bank.request_pending'`).Scan(&n))
		require.Equal(t, 1, n)
		require.Equal(t, []string{"#deposit request 1: one"}, b.sentTo(t))
	})

	t.Run("asked again, a request its first run did not post is posted once", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 0)
		id := interaction()
		first, err := b.bank.AskRequest(ctx, m, id, bank.RequestGrant, money(10), "one", time.Time{})
		require.NoError(t, err)
		require.NoError(t, b.bank.NotPosted(ctx, first.ID), "its post failed")

		var wg sync.WaitGroup
		var mu sync.Mutex
		var toPost []store.BankRequest
		repeats := 0
		for range 4 {
			wg.Go(func() {
				r, err := b.bank.AskRequest(ctx, m, id, bank.RequestGrant, money(10), "one", time.Time{})
				mu.Lock()
				defer mu.Unlock()
				var repeated *bank.Repeated
				switch {
				case err == nil:
					toPost = append(toPost, r)
				case errors.As(err, &repeated):
					repeats++
				default:
					t.Errorf("ask again: %v", err)
				}
			})
		}
		wg.Wait()
		require.Len(t, toPost, 1, "one replay posts it")
		require.Equal(t, first.ID, toPost[0].ID)
		require.Equal(t, 3, repeats)

		require.NoError(t, b.bank.Posted(ctx, first.ID, "400", "500"))
		_, err = b.bank.AskRequest(ctx, m, id, bank.RequestGrant, money(10), "one", time.Time{})
		var repeated *bank.Repeated
		require.ErrorAs(t, err, &repeated, "posted, it is not posted again")
		got, err := b.st.BankRequestGet(ctx, first.ID)
		require.NoError(t, err)
		require.Equal(t, "500", *got.MessageID)
		require.Equal(t, "400", *got.ChannelID)
		var n int
		require.NoError(t, b.st.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_logs WHERE action = 'bank.request_pending'`).Scan(&n))
		require.Equal(t, 1, n)
	})

	t.Run("a post its caller left a minute ago is taken over", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 0)
		id := interaction()
		r, err := b.bank.AskRequest(ctx, m, id, bank.RequestGrant, money(10), "one", time.Time{})
		require.NoError(t, err)
		_, err = b.bank.AskRequest(ctx, m, id, bank.RequestGrant, money(10), "one", time.Time{})
		var repeated *bank.Repeated
		require.ErrorAs(t, err, &repeated, "its first run is posting it")
		_, err = b.st.Pool.Exec(ctx, `UPDATE bank_requests SET updated_at = now() - interval '61 seconds' WHERE id = $1`, r.ID)
		require.NoError(t, err)
		again, err := b.bank.AskRequest(ctx, m, id, bank.RequestGrant, money(10), "one", time.Time{})
		require.NoError(t, err, "the first run stopped while posting")
		require.Equal(t, r.ID, again.ID)
	})

	t.Run("bad requests change nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, pnw.Options{})
		m := b.member(t, 100)
		for _, c := range []struct {
			kind, reason string
			a            pnw.Amounts
			due          time.Time
			want         string
		}{
			{bank.RequestGrant, "x", pnw.Amounts{}, time.Time{}, "at least one amount"},
			{bank.RequestGrant, "x", money(-1), time.Time{}, "negative"},
			{bank.RequestGrant, "", money(1), time.Time{}, "reason"},
			{bank.RequestGrant, "x", money(1), time.Now().AddDate(0, 1, 0), "Only a loan"},
			{bank.RequestLoan, "x", money(1), time.Now().AddDate(0, 0, -2), "in the past"},
			{"steal", "x", money(1), time.Time{}, "withdraw, a grant or a loan"},
		} {
			_, err := b.bank.AskRequest(ctx, m, interaction(), c.kind, c.a, c.reason, c.due)
			var invalid *bank.Invalid
			require.ErrorAs(t, err, &invalid, c.want)
			require.Contains(t, err.Error(), c.want)
			require.Contains(t, err.Error(), "Nothing was asked.")
		}
		pending, err := b.st.BankRequestListPending(ctx, b.rose.ID)
		require.NoError(t, err)
		require.Empty(t, pending)
	})
}

func TestAdjust(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, pnw.Options{})
	b.member(t, 1000)
	b.now = time.Now() // after the deposit, as a banker's correction comes
	before, after, err := b.bank.Adjust(ctx, b.alice, interaction(), carol, pnw.Amounts{pnw.Money: -250, pnw.Steel: 12.5}, " missed a withdrawal ")
	require.NoError(t, err)
	require.Equal(t, money(1000), before)
	want := pnw.Amounts{pnw.Money: 750, pnw.Steel: 12.5}
	require.Equal(t, want, after)
	acc := b.balance(t)
	require.Equal(t, want, acc.Balance)
	require.Equal(t, bank.EffectAdjustment, acc.Entries[1].Effect)
	require.Equal(t, "missed a withdrawal", acc.Entries[1].Note)

	rows, err := b.st.AuditLogList(ctx, store.AuditLogListParams{RowLimit: 1})
	require.NoError(t, err)
	require.Equal(t, "bank.adjust", rows[0].Action)
	require.Equal(t, &b.alice.User.ID, rows[0].UserID)
	require.JSONEq(t, `{"balance": {"money": 1000}}`, string(rows[0].OldValues))
	require.Contains(t, string(rows[0].NewValues), `"balance": {"money": 750, "steel": 12.5}`)

	t.Run("applied again by the same interaction, it changes nothing", func(t *testing.T) {
		id := interaction()
		_, after, err := b.bank.Adjust(ctx, b.alice, id, carol, money(100), "bonus")
		require.NoError(t, err)
		require.Equal(t, money(850).Add(pnw.Amounts{pnw.Steel: 12.5}), after)
		_, _, err = b.bank.Adjust(ctx, b.alice, id, carol, money(100), "bonus")
		var repeated *bank.Repeated
		require.ErrorAs(t, err, &repeated)
		require.Contains(t, err.Error(), "already recorded")
		acc := b.balance(t)
		require.Equal(t, after, acc.Balance)
		require.Len(t, acc.Entries, 3, "the deposit and two adjustments")
		rows, err := b.st.AuditLogList(ctx, store.AuditLogListParams{RowLimit: 10})
		require.NoError(t, err)
		require.Len(t, rows, 2)
	})
	want = b.balance(t).Balance

	for _, c := range []struct {
		a    pnw.Amounts
		note string
		want string
	}{
		{pnw.Amounts{}, "x", "at least one amount"},
		{money(1), "  ", "Say why"},
		{money(0.001), "x", "two decimals"},
	} {
		_, _, err := b.bank.Adjust(ctx, b.alice, interaction(), carol, c.a, c.note)
		var invalid *bank.Invalid
		require.ErrorAs(t, err, &invalid)
		require.Contains(t, err.Error(), c.want)
	}
	require.Equal(t, want, b.balance(t).Balance, "nothing changed")
}
