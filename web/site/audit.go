package site

import (
	"errors"
	"net/http"
	"time"

	"pnwbot/ia"
	"pnwbot/store"
)

// auditData is /alliances/{slug}/audit: members × rules, in the words of
// /audit run.
type auditData struct {
	Alliance        store.Alliance
	Rules           []ia.Rule
	Rows            []auditRow
	Failing         int
	Passing         int
	FetchedAt       time.Time
	Stale           bool
	ServerUnchecked bool
	RowsP           pager
}

type auditRow struct {
	Member ia.Member
	Cells  []auditCell
}

// auditCell is one member against one rule: the failure's words, "ok", or
// "—" where the rule does not judge the member.
type auditCell struct {
	Text  string
	Fails bool
}

// auditPage shows every member against every rule of the alliance, the
// failing first (worst first, as /audit run), for canViewMembers.
func (s *Site) auditPage(w http.ResponseWriter, r *http.Request, u *store.User, _ store.UserSession) {
	a, _, ok := s.allianceFor(w, r, u, "/alliances/{slug}/audit")
	if !ok {
		return
	}
	now := s.opts.Now()
	rep, err := s.opts.Audit.Run(r.Context(), a, 0, now)
	switch {
	case errors.Is(err, ia.ErrNoRules):
		s.fail(w, r, http.StatusOK, "No audit rules", a.Name+" has no audit rules yet: a manager adds them with /audit rules set in Discord.")
		return
	case err != nil:
		s.gameDown(w, r, err)
		return
	}
	d := auditData{Alliance: a, Rules: rep.Rules, Failing: len(rep.Failing), Passing: rep.Passing,
		FetchedAt: rep.FetchedAt, Stale: rep.Stale, ServerUnchecked: rep.ServerUnchecked}
	// The failing in the report's order, then those who pass.
	members := make([]ia.Member, 0, len(rep.Members))
	failing := map[int]bool{}
	for _, f := range rep.Failing {
		members = append(members, f.Member)
		failing[f.Member.NationID] = true
	}
	for _, m := range rep.Members {
		if !failing[m.NationID] {
			members = append(members, m)
		}
	}
	n := pageParam(r, "page")
	for _, m := range pageOf(members, n) {
		row := auditRow{Member: m}
		for _, rule := range rep.Rules {
			cell := auditCell{Text: "—"}
			if ia.Applies(rep.Rules, rule, m) {
				cell.Text = "ok"
				if text, fails := ia.Check(rule, m, rep.Env); fails {
					cell = auditCell{Text: text, Fails: true}
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		d.Rows = append(d.Rows, row)
	}
	d.RowsP = newPager(r, "page", n, len(members))
	s.render(w, r, http.StatusOK, "audit", page{Title: "Audit of " + a.Name, User: u, Data: d})
}
