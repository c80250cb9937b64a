package site

import (
	"cmp"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"pnwbot/access"
	"pnwbot/bank"
	"pnwbot/chart"
	"pnwbot/pnw"
	"pnwbot/store"
)

// chartDays is how far back the holdings chart reaches.
const chartDays = 90

// bankData is /alliances/{slug}/bank: every member's balance, open loans,
// pending requests and the holdings over time.
type bankData struct {
	Alliance store.Alliance
	Status   bank.Status
	Balances []balanceRow
	Loans    []loanRow
	Requests []store.BankRequest
	Chart    template.URL // a PNG as a data: URL; empty without snapshots
}

type balanceRow struct {
	NationID int64
	Name     string
	Balance  string
	Grants   string
	Owed     string
	Overdue  bool
}

type loanRow struct {
	NationID int64
	Name     string
	Owed     string
	Lent     time.Time
	Due      string
	Overdue  bool
}

// allianceBank is the bankers' page (canViewMembers, the managers' pages'
// own, and canViewBank, as /bank loans).
func (s *Site) allianceBank(w http.ResponseWriter, r *http.Request, u *store.User, _ store.UserSession) {
	ctx := r.Context()
	a, _, ok := s.allianceFor(w, r, u, "/alliances/{slug}/bank", access.ViewBank)
	if !ok {
		return
	}
	var err error
	d := bankData{Alliance: a}
	if d.Status, err = s.opts.Bank.Status(ctx, a.ID); err != nil {
		s.internal(w, r, err)
		return
	}
	accounts, err := s.opts.Bank.Accounts(ctx, a)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	names := map[int64]string{}
	if members, err := s.opts.Game.AllianceMembers(ctx, int(a.PnwAllianceID)); err != nil {
		s.opts.Logger.InfoContext(ctx, "web bank: member names unknown", "alliance_id", a.ID, "error", err)
	} else {
		for _, m := range members.Data {
			if id, err := strconv.ParseInt(m.Id, 10, 64); err == nil {
				names[id] = m.NationName
			}
		}
	}
	name := func(id int64) string { return cmp.Or(names[id], "nation "+strconv.FormatInt(id, 10)) }
	now := s.opts.Now()
	for id, acc := range accounts {
		row := balanceRow{NationID: id, Name: name(id), Balance: orNothing(acc.Balance), Grants: orNothing(acc.Grants), Owed: orNothing(acc.Owed())}
		for _, l := range acc.Loans {
			if !l.Open() {
				continue
			}
			lr := loanRow{NationID: id, Name: row.Name, Owed: bank.Text(l.Owed, false), Lent: l.Date, Overdue: l.Overdue(now)}
			if !l.Due.IsZero() {
				lr.Due = l.Due.Format(time.DateOnly)
			}
			row.Overdue = row.Overdue || lr.Overdue
			d.Loans = append(d.Loans, lr)
		}
		d.Balances = append(d.Balances, row)
	}
	slices.SortFunc(d.Balances, func(x, y balanceRow) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.NationID, y.NationID))
	})
	slices.SortFunc(d.Loans, func(x, y loanRow) int {
		if x.Overdue != y.Overdue {
			if x.Overdue {
				return -1
			}
			return 1
		}
		undated := func(l loanRow) int {
			if l.Due == "" {
				return 1
			}
			return 0
		}
		return cmp.Or(cmp.Compare(undated(x), undated(y)), cmp.Compare(x.Due, y.Due), x.Lent.Compare(y.Lent))
	})
	if d.Requests, err = s.opts.Store.BankRequestListPending(ctx, a.ID); err != nil {
		s.internal(w, r, err)
		return
	}
	snaps, err := s.opts.Store.BankSnapshotList(ctx, store.BankSnapshotListParams{AllianceID: a.ID, Since: now.AddDate(0, 0, -chartDays)})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(snaps) > 0 {
		png, err := holdingsChart(snaps)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		d.Chart = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	s.render(w, r, http.StatusOK, "bank", page{Title: a.Name + " bank", User: u, Data: d})
}

func orNothing(a pnw.Amounts) string {
	if a.IsZero() {
		return "—"
	}
	return bank.Text(a, false)
}

// holdingsChart draws the bank's value (money plus resources at that day's
// average prices) per day.
func holdingsChart(snaps []store.BankSnapshot) ([]byte, error) {
	points := make([]chart.Point, len(snaps))
	for i, sn := range snaps {
		points[i] = chart.Point{At: sn.Day, Value: sn.Value}
	}
	return chart.Line("Bank holdings, value in dollars (UTC days)", points)
}

// myBalance is a member's own balance on /me: in the ledger of the
// alliance their nation is in, when pnwbot runs it.
type myBalance struct {
	Alliance string
	Balance  string
	Owed     string
	Grants   string
	Entries  []bank.Entry
}

// myLedger finds the account of the user's nation; nil when its alliance
// keeps no ledger here.
func (s *Site) myLedger(r *http.Request, n *pnw.Nation) (*myBalance, error) {
	if s.opts.Bank == nil || n == nil {
		return nil, nil
	}
	ctx := r.Context()
	allianceID, _ := strconv.ParseInt(n.AllianceId, 10, 64)
	nationID, _ := strconv.ParseInt(n.Id, 10, 64)
	if allianceID == 0 || !n.AlliancePosition.IsMember() {
		return nil, nil
	}
	a, err := s.opts.Store.AllianceGetByPnwID(ctx, allianceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	acc, err := s.opts.Bank.Account(ctx, a, nationID)
	if err != nil {
		return nil, err
	}
	m := &myBalance{Alliance: a.Name, Balance: orNothing(acc.Balance), Owed: orNothing(acc.Owed()), Grants: orNothing(acc.Grants)}
	for _, e := range slices.Backward(acc.Entries) {
		if len(m.Entries) == pageSize {
			break
		}
		m.Entries = append(m.Entries, e)
	}
	return m, nil
}
