package bank

// The ledger: what each member has in the alliance bank, as one pure fold
// over the alliance's bank and tax records (Fold).

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"pnwbot/pnw"
)

// Kind is where a ledger record comes from.
type Kind string

const (
	KindBank       Kind = "bank"       // a bank record of the game
	KindTax        Kind = "tax"        // a tax record of the game
	KindAdjustment Kind = "adjustment" // a banker's manual entry
)

// Party types of the game's bank records.
const (
	TypeNation   = 1
	TypeAlliance = 2
)

// Record is one row of an alliance's ledger.
type Record struct {
	ID           int64 // the ledger's row id
	GameID       int64 // the game's record id; 0 for an adjustment
	Kind         Kind
	Date         time.Time
	SenderID     int64
	SenderType   int
	ReceiverID   int64
	ReceiverType int
	BankerID     int64
	Note         string
	// Amounts are what moved; an adjustment's are signed (negative debits).
	Amounts pnw.Amounts
	// NationID is the nation the record is about: an adjustment's nation,
	// or the nation that sent or received.
	NationID int64
}

// Tags a note may carry, case-insensitive, anywhere in it.
const (
	TagIgnore  = "#ignore"
	TagGrant   = "#grant"
	TagLoan    = "#loan"
	TagDeposit = "#deposit"
)

var (
	tagPattern = regexp.MustCompile(`(?i)#(ignore|grant|loan|deposit)\b`)
	duePattern = regexp.MustCompile(`(?i)#due=(\d{4}-\d{2}-\d{2})\b`)
)

// Tags returns the tags in note, lower case, each once, in order.
func Tags(note string) []string {
	var out []string
	for _, m := range tagPattern.FindAllString(note, -1) {
		if t := strings.ToLower(m); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Due is the date a note's #due=YYYY-MM-DD names, or the zero time.
func Due(note string) time.Time {
	m := duePattern.FindStringSubmatch(note)
	if m == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, m[1])
	if err != nil {
		return time.Time{}
	}
	return t
}

// Effect is what a record does to a nation's account.
type Effect string

const (
	EffectDeposit    Effect = "deposit"    // nation -> alliance: credited
	EffectWithdrawal Effect = "withdrawal" // alliance -> nation: debited
	EffectGrant      Effect = "grant"      // alliance -> nation with #grant: listed, not debited
	EffectLoan       Effect = "loan"       // alliance -> nation with #loan: owed until repaid
	EffectRepayment  Effect = "repayment"  // nation -> alliance with #loan: repays the oldest open loans, the rest credited
	EffectTax        Effect = "tax"        // a tax record: the alliance's tax credit percent credited
	EffectAdjustment Effect = "adjustment" // a banker's entry: credited (debited when negative)
	EffectIgnored    Effect = "ignored"    // #ignore, or not between the alliance and a nation
)

// Entry is a record with what the rules made of it.
type Entry struct {
	Record
	Effect Effect
	Tags   []string
	// Credit is what the record added to the balance (negative: took).
	Credit pnw.Amounts
	// Repaid is what a repayment paid off loans.
	Repaid pnw.Amounts
}

// Loan is money lent to a nation, owed until repaid.
type Loan struct {
	RecordID int64
	GameID   int64
	Date     time.Time
	Due      time.Time // zero without #due
	Amount   pnw.Amounts
	Owed     pnw.Amounts
}

// Open reports whether anything of the loan is still owed.
func (l Loan) Open() bool {
	for _, v := range l.Owed {
		if v > 0 {
			return true
		}
	}
	return false
}

// Overdue reports whether the loan is open past its due date at now.
func (l Loan) Overdue(now time.Time) bool {
	return l.Open() && !l.Due.IsZero() && now.After(l.Due.AddDate(0, 0, 1))
}

// Account is a nation's side of an alliance's ledger.
type Account struct {
	NationID int64
	// Balance is what the alliance holds for the nation: deposits less
	// withdrawals, plus tax credits, adjustments and repayments beyond
	// its loans.
	Balance     pnw.Amounts
	Deposits    pnw.Amounts
	Withdrawals pnw.Amounts
	Grants      pnw.Amounts
	Taxes       pnw.Amounts // credited from tax records
	Adjustments pnw.Amounts
	// Loans are every loan, oldest first, repaid ones included.
	Loans   []Loan
	Entries []Entry
}

// Owed is what the nation owes on its open loans.
func (a *Account) Owed() pnw.Amounts {
	var owed pnw.Amounts
	for _, l := range a.Loans {
		owed = owed.Add(l.Owed)
	}
	return owed
}

// Rules are an alliance's ledger settings.
type Rules struct {
	// AllianceID is the alliance's game id: records are read from its side.
	AllianceID int64
	// TaxCreditPercent of what a tax record took is credited to the nation
	// (the alliance setting bank.tax_credit_percent, 0 to 100).
	TaxCreditPercent float64
}

// Fold applies the rules to an alliance's records, oldest first (by date,
// then row id), and returns each nation's account. It is the only place
// the ledger's rules live: a balance is always this fold of the records.
func Fold(rules Rules, records []Record) map[int64]*Account {
	sorted := slices.Clone(records)
	slices.SortStableFunc(sorted, func(a, b Record) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	accounts := map[int64]*Account{}
	for _, r := range sorted {
		if r.NationID == 0 {
			continue // between alliances: no nation's money
		}
		acc := accounts[r.NationID]
		if acc == nil {
			acc = &Account{NationID: r.NationID}
			accounts[r.NationID] = acc
		}
		acc.apply(rules, r)
	}
	return accounts
}

// apply folds one record into the account.
func (a *Account) apply(rules Rules, r Record) {
	e := Entry{Record: r, Tags: Tags(r.Note), Effect: EffectIgnored}
	has := func(tag string) bool { return slices.Contains(e.Tags, tag) }
	in := r.SenderType == TypeNation && r.ReceiverType == TypeAlliance && r.ReceiverID == rules.AllianceID
	out := r.SenderType == TypeAlliance && r.SenderID == rules.AllianceID && r.ReceiverType == TypeNation
	switch {
	case has(TagIgnore):
	case r.Kind == KindAdjustment:
		e.Effect, e.Credit = EffectAdjustment, r.Amounts
		a.Adjustments = a.Adjustments.Add(r.Amounts)
	case r.Kind == KindTax && in:
		e.Effect, e.Credit = EffectTax, r.Amounts.Percent(rules.TaxCreditPercent)
		a.Taxes = a.Taxes.Add(e.Credit)
	case r.Kind == KindTax:
	case in && has(TagLoan):
		e.Effect = EffectRepayment
		e.Repaid, e.Credit = a.repay(r.Amounts)
		a.Deposits = a.Deposits.Add(e.Credit)
	case in:
		e.Effect, e.Credit = EffectDeposit, r.Amounts
		a.Deposits = a.Deposits.Add(r.Amounts)
	case out && has(TagLoan):
		e.Effect = EffectLoan
		a.Loans = append(a.Loans, Loan{RecordID: r.ID, GameID: r.GameID, Date: r.Date, Due: Due(r.Note), Amount: r.Amounts, Owed: r.Amounts})
	case out && has(TagGrant):
		e.Effect = EffectGrant
		a.Grants = a.Grants.Add(r.Amounts)
	case out:
		e.Effect, e.Credit = EffectWithdrawal, pnw.Amounts{}.Sub(r.Amounts)
		a.Withdrawals = a.Withdrawals.Add(r.Amounts)
	}
	a.Balance = a.Balance.Add(e.Credit)
	a.Entries = append(a.Entries, e)
}

// repay pays the oldest open loans first, resource by resource, and
// returns what went to loans and what is left over (credited).
func (a *Account) repay(paid pnw.Amounts) (repaid, rest pnw.Amounts) {
	rest = paid
	for i := range a.Loans {
		l := &a.Loans[i]
		var take pnw.Amounts
		for r := range take {
			take[r] = max(min(rest[r], l.Owed[r]), 0)
		}
		l.Owed, rest, repaid = l.Owed.Sub(take), rest.Sub(take), repaid.Add(take)
	}
	return repaid, rest
}
