package bank_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bank"
	"pnwbot/pnw"
)

// other is an alliance besides rose, whose ledger it is; alice is the
// member whose account the tables fold.
const other = 8

var day0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func steel(v float64) pnw.Amounts {
	var a pnw.Amounts
	a[pnw.Steel] = v
	return a
}

// in is alice sending to rose; out is rose sending to alice.
func in(id int64, day int, a pnw.Amounts, note string) bank.Record {
	return bank.Record{ID: id, GameID: id, Kind: bank.KindBank, Date: day0.AddDate(0, 0, day), SenderID: alice, SenderType: 1,
		ReceiverID: rose, ReceiverType: 2, Note: note, Amounts: a, NationID: alice}
}

func out(id int64, day int, a pnw.Amounts, note string) bank.Record {
	return bank.Record{ID: id, GameID: id, Kind: bank.KindBank, Date: day0.AddDate(0, 0, day), SenderID: rose, SenderType: 2,
		ReceiverID: alice, ReceiverType: 1, Note: note, Amounts: a, NationID: alice}
}

func tax(id int64, day int, a pnw.Amounts) bank.Record {
	r := in(id, day, a, "Automated Tax 10%")
	r.Kind = bank.KindTax
	return r
}

func adjust(id int64, day int, a pnw.Amounts, note string) bank.Record {
	r := out(id, day, a, note)
	r.Kind, r.GameID = bank.KindAdjustment, 0
	return r
}

func TestFold(t *testing.T) {
	t.Parallel()
	type want struct {
		balance, deposits, withdrawals, grants, taxes, adjustments, owed pnw.Amounts
		effects                                                          []bank.Effect
		loans                                                            []bank.Loan // nil: not checked
	}
	due := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		percent float64
		records []bank.Record
		want    want
	}{
		{name: "a deposit without a tag is credited", records: []bank.Record{in(1, 0, money(500), "")},
			want: want{balance: money(500), deposits: money(500), effects: []bank.Effect{bank.EffectDeposit}}},
		{name: "#deposit is credited", records: []bank.Record{in(1, 0, money(5_000_000), "safekeeping #deposit")},
			want: want{balance: money(5_000_000), deposits: money(5_000_000), effects: []bank.Effect{bank.EffectDeposit}}},
		{name: "a withdrawal is debited, tagged #deposit or not", records: []bank.Record{
			in(1, 0, money(1000), "#deposit"), out(2, 1, money(300), "#deposit"), out(3, 2, money(200), "")},
			want: want{balance: money(500), deposits: money(1000), withdrawals: money(500),
				effects: []bank.Effect{bank.EffectDeposit, bank.EffectWithdrawal, bank.EffectWithdrawal}}},
		{name: "a withdrawal beyond the deposits leaves a negative balance", records: []bank.Record{
			in(1, 0, money(100), ""), out(2, 1, money(250), "")},
			want: want{balance: money(-150), deposits: money(100), withdrawals: money(250),
				effects: []bank.Effect{bank.EffectDeposit, bank.EffectWithdrawal}}},
		{name: "#grant is listed, not debited", records: []bank.Record{
			in(1, 0, money(100), ""), out(2, 1, steel(4000), "city grant #grant")},
			want: want{balance: money(100), deposits: money(100), grants: steel(4000),
				effects: []bank.Effect{bank.EffectDeposit, bank.EffectGrant}}},
		{name: "tags are case-insensitive, anywhere in the note", records: []bank.Record{
			out(1, 0, money(10), "for war #GRANT please"), out(2, 1, money(20), "#Loan #DUE=2026-12-24")},
			want: want{grants: money(10), owed: money(20), effects: []bank.Effect{bank.EffectGrant, bank.EffectLoan},
				loans: []bank.Loan{{RecordID: 2, GameID: 2, Date: day0.AddDate(0, 0, 1), Due: due, Amount: money(20), Owed: money(20)}}}},
		{name: "a longer word is no tag", records: []bank.Record{out(1, 0, money(10), "#grantee #loaned #ignored")},
			want: want{balance: money(-10), withdrawals: money(10), effects: []bank.Effect{bank.EffectWithdrawal}}},
		{name: "#loan is owed with its due date, not debited", records: []bank.Record{
			out(1, 0, money(1_000_000), "#loan #due=2026-12-24")},
			want: want{owed: money(1_000_000), effects: []bank.Effect{bank.EffectLoan},
				loans: []bank.Loan{{RecordID: 1, GameID: 1, Date: day0, Due: due, Amount: money(1_000_000), Owed: money(1_000_000)}}}},
		{name: "a repayment pays the oldest open loans first, the rest is credited", records: []bank.Record{
			out(1, 0, money(100), "#loan"), out(2, 1, money(50).Add(steel(10)), "#loan"), in(3, 2, money(120).Add(steel(15)), "repay #loan")},
			want: want{balance: steel(5), deposits: steel(5), owed: money(30),
				effects: []bank.Effect{bank.EffectLoan, bank.EffectLoan, bank.EffectRepayment},
				loans: []bank.Loan{
					{RecordID: 1, GameID: 1, Date: day0, Amount: money(100), Owed: pnw.Amounts{}},
					{RecordID: 2, GameID: 2, Date: day0.AddDate(0, 0, 1), Amount: money(50).Add(steel(10)), Owed: money(30)},
				}}},
		{name: "a repayment without open loans is a deposit", records: []bank.Record{in(1, 0, money(70), "#loan")},
			want: want{balance: money(70), deposits: money(70), effects: []bank.Effect{bank.EffectRepayment}}},
		{name: "#ignore leaves any record out", records: []bank.Record{
			in(1, 0, money(100), "#ignore"), out(2, 1, money(50), "#grant #ignore"), out(3, 2, money(50), "#IGNORE #loan"),
			tax(4, 3, money(1000)), func() bank.Record { r := tax(5, 4, money(1000)); r.Note = "#ignore"; return r }()},
			percent: 10,
			want: want{balance: money(100), taxes: money(100),
				effects: []bank.Effect{bank.EffectIgnored, bank.EffectIgnored, bank.EffectIgnored, bank.EffectTax, bank.EffectIgnored}}},
		{name: "taxes credit the alliance's percent", percent: 25, records: []bank.Record{tax(1, 0, money(1000.10).Add(steel(3)))},
			want: want{balance: money(250.03).Add(steel(0.75)), taxes: money(250.03).Add(steel(0.75)), effects: []bank.Effect{bank.EffectTax}}},
		{name: "taxes credit nothing by default", records: []bank.Record{tax(1, 0, money(1000))},
			want: want{effects: []bank.Effect{bank.EffectTax}}},
		{name: "adjustments credit and debit", records: []bank.Record{
			adjust(1, 0, money(300), "missed deposit"), adjust(2, 1, steel(-40), "correction")},
			want: want{balance: money(300).Add(steel(-40)), adjustments: money(300).Add(steel(-40)),
				effects: []bank.Effect{bank.EffectAdjustment, bank.EffectAdjustment}}},
		{name: "records fold in date order whatever order they come in", records: []bank.Record{
			in(2, 1, money(100), "#loan"), out(1, 0, money(100), "#loan")},
			want: want{owed: pnw.Amounts{}, effects: []bank.Effect{bank.EffectLoan, bank.EffectRepayment}}},
		{name: "cents never drift", records: func() []bank.Record {
			var rs []bank.Record
			for i := range 10 {
				rs = append(rs, in(int64(i+1), 0, money(0.1), ""))
			}
			return append(rs, out(11, 1, money(0.3), ""))
		}(), want: want{balance: money(0.7), deposits: money(1), withdrawals: money(0.3),
			effects: []bank.Effect{"deposit", "deposit", "deposit", "deposit", "deposit", "deposit", "deposit", "deposit", "deposit", "deposit", "withdrawal"}}},
		{name: "records of another alliance move nothing", records: []bank.Record{
			func() bank.Record { r := in(1, 0, money(100), ""); r.ReceiverID = other; return r }(),
			func() bank.Record { r := out(2, 0, money(100), ""); r.SenderID = other; return r }()},
			want: want{effects: []bank.Effect{bank.EffectIgnored, bank.EffectIgnored}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			accounts := bank.Fold(bank.Rules{AllianceID: rose, TaxCreditPercent: tc.percent}, tc.records)
			require.Len(t, accounts, 1)
			a := accounts[alice]
			require.NotNil(t, a)
			w := tc.want
			require.Equal(t, w.balance, a.Balance, "balance")
			require.Equal(t, w.deposits, a.Deposits, "deposits")
			require.Equal(t, w.withdrawals, a.Withdrawals, "withdrawals")
			require.Equal(t, w.grants, a.Grants, "grants")
			require.Equal(t, w.taxes, a.Taxes, "taxes")
			require.Equal(t, w.adjustments, a.Adjustments, "adjustments")
			require.Equal(t, w.owed, a.Owed(), "owed")
			var effects []bank.Effect
			for _, e := range a.Entries {
				effects = append(effects, e.Effect)
			}
			require.Equal(t, w.effects, effects)
			if w.loans != nil {
				require.Equal(t, w.loans, a.Loans)
			}
		})
	}
}

func TestFoldAlliance(t *testing.T) {
	t.Parallel()
	between := bank.Record{ID: 9, GameID: 9, Kind: bank.KindBank, Date: day0, SenderID: rose, SenderType: 2, ReceiverID: other, ReceiverType: 2, Amounts: money(1e9)}
	bob := in(2, 0, money(40), "")
	bob.SenderID, bob.NationID = 202, 202
	accounts := bank.Fold(bank.Rules{AllianceID: rose}, []bank.Record{in(1, 0, money(60), ""), bob, between})
	require.Len(t, accounts, 2, "alliance-to-alliance records belong to no nation")
	require.Equal(t, money(60), accounts[alice].Balance)
	require.Equal(t, money(40), accounts[202].Balance)
}

func TestLoanOverdue(t *testing.T) {
	t.Parallel()
	due := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	l := bank.Loan{Due: due, Amount: money(10), Owed: money(10)}
	require.False(t, l.Overdue(due.Add(23*time.Hour)), "due the whole day")
	require.True(t, l.Overdue(due.AddDate(0, 0, 1).Add(time.Second)))
	l.Owed = pnw.Amounts{}
	require.False(t, l.Overdue(due.AddDate(0, 1, 0)), "repaid")
	require.False(t, bank.Loan{Owed: money(1)}.Overdue(due), "no due date")
}

func TestTagsAndDue(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"#loan", "#grant"}, bank.Tags("#LOAN then #grant, #loan again, #due=2026-01-02"))
	require.Equal(t, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), bank.Due("x #DUE=2026-01-02 y"))
	require.True(t, bank.Due("#due=2026-02-30").IsZero(), "no such day")
	require.True(t, bank.Due("#due=soon").IsZero())
}
