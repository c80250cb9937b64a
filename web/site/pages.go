package site

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/store"
)

// pageSize is the bot's own page size, so that page N on the web is page
// N in Discord.
const pageSize = 10

// meData is /me: the account, as /me in Discord shows it, plus sessions.
type meData struct {
	Nation         *pnw.Nation
	NationNote     string // why the nation is not shown
	KeyStatus      string
	PrivateReplies bool
	Alliances      []store.AllianceManagerListByUserRow
	Sessions       []sessionRow
	RoleConnected  bool
	Admin          bool       // a system admin: /admin is theirs
	Bank           *myBalance // their balance in their alliance's ledger, when it keeps one
}

type sessionRow struct {
	store.UserSession
	Current bool
}

func (s *Site) me(w http.ResponseWriter, r *http.Request, u *store.User, current store.UserSession) {
	ctx := r.Context()
	// /me in Discord asks for canViewOwnData; so does the page.
	held, err := access.MemberOf(u.Permissions)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if access.Check(access.Member(access.ViewOwnData), access.Perms{Member: held}) != nil {
		s.auditOnce(r, fmt.Sprintf("user:%d:/me", u.ID), audit.Entry{User: &u.ID, Action: "permission.denied", Resource: "permission",
			ResourceID: string(access.ViewOwnData), Failed: true, New: map[string]any{"permission": access.ViewOwnData, "route": "/me"}})
		s.fail(w, r, http.StatusForbidden, "Forbidden",
			"You are not allowed to see your own data here (missing permission canViewOwnData). Ask the bot's admins if you think you should be.")
		return
	}
	d := meData{KeyStatus: s.opts.Keys.MemberStatus(ctx, *u).Text(func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") })}
	d.PrivateReplies = access.PreferencesOf(u.Preferences).Private
	if u.PnwNationID == nil {
		d.NationNote = "No nation linked: use /link in Discord."
	} else if n, err := s.opts.Game.Nation(ctx, int(*u.PnwNationID)); err != nil {
		s.opts.Logger.WarnContext(ctx, "web /me nation", "error", err)
		d.NationNote = fmt.Sprintf("Nation %d (the game did not answer just now).", *u.PnwNationID)
	} else {
		d.Nation = &n.Data
	}
	if d.Bank, err = s.myLedger(r, d.Nation); err != nil {
		s.internal(w, r, err)
		return
	}
	if d.Alliances, err = s.opts.Store.AllianceManagerListByUser(ctx, u.ID); err != nil {
		s.internal(w, r, err)
		return
	}
	now := s.opts.Now()
	sessions, err := s.opts.Store.UserSessionListActive(ctx, store.UserSessionListActiveParams{
		UserID: u.ID, Now: now, IdleSince: now.Add(-IdleTimeout)})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	for _, sess := range sessions {
		d.Sessions = append(d.Sessions, sessionRow{sess, sess.ID == current.ID})
	}
	switch _, err := s.opts.Store.RoleConnectionGet(ctx, u.ID); {
	case err == nil:
		d.RoleConnected = true
	case !errors.Is(err, store.ErrNotFound):
		s.internal(w, r, err)
		return
	}
	switch _, err := s.opts.Store.SystemAdminGetByUser(ctx, u.ID); {
	case err == nil:
		d.Admin = true
	case !errors.Is(err, store.ErrNotFound):
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "me", page{Title: "Your account", User: u, Data: d})
}

// allianceData is /alliances/{slug}: the sections the manager may see.
type allianceData struct {
	Alliance store.Alliance
	Members  []memberRow
	MembersP pager
	Bank     []holding
	BankNote string // why the bank is not shown
	CanBank  bool
	Ledger   bool      // the bank page is on
	Wars     []pnw.War // nil when not allowed
	WarsP    pager
	CanWars  bool
	Audit    []store.AuditLogPageRow
	AuditP   pager
	CanAudit bool
	Stale    bool
}

// holding is an amount of money or of one resource in the bank.
type holding struct {
	Name   string
	Amount float64
}

func bankHoldings(b pnw.AllianceBank) []holding {
	var hs []holding
	for r, v := range b.Amounts() {
		name := pnw.Resource(r).String()
		hs = append(hs, holding{strings.ToUpper(name[:1]) + name[1:], v})
	}
	return hs
}

type memberRow struct {
	pnw.Nation
	Linked bool // a pnwbot user linked this nation
}

// pager links to the neighbouring pages of one section, keeping the
// other sections' pages.
type pager struct {
	Page, Pages int
	Prev, Next  string
}

func newPager(r *http.Request, param string, n, total int) pager {
	p := pager{Page: n + 1, Pages: max((total+pageSize-1)/pageSize, 1)}
	link := func(to int) string {
		q := r.URL.Query()
		q.Set(param, strconv.Itoa(to))
		return r.URL.Path + "?" + q.Encode()
	}
	if n > 0 {
		p.Prev = link(n - 1)
	}
	if (n+1)*pageSize < total {
		p.Next = link(n + 1)
	}
	return p
}

// pageParam is the page (from 0) a query parameter asks for.
func pageParam(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, 10000)
}

func pageOf[T any](items []T, n int) []T {
	start := min(n*pageSize, len(items))
	return items[start:min(start+pageSize, len(items))]
}

// allianceFor is the alliance of the page's {slug} and what u holds in it,
// once u is known to hold canViewMembers (the managers' pages' own
// permission) and more; otherwise it answers, a denial audited, and ok is
// false.
func (s *Site) allianceFor(w http.ResponseWriter, r *http.Request, u *store.User, route string, more ...access.Permission) (a store.Alliance, held access.Set, ok bool) {
	ctx := r.Context()
	a, err := s.opts.Store.AllianceGetBySlug(ctx, r.PathValue("slug"))
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "Not found", "No alliance has this address.")
		return a, nil, false
	} else if err != nil {
		s.internal(w, r, err)
		return a, nil, false
	}
	held, _, err = access.LoadAlliance(ctx, s.opts.Store, u.ID, a.ID) // once for the page
	if err != nil {
		s.internal(w, r, err)
		return a, nil, false
	}
	var denied *access.Denied
	if errors.As(access.Check(access.Alliance(append([]access.Permission{access.ViewMembers}, more...)...), access.Perms{Alliance: held}), &denied) {
		s.auditOnce(r, fmt.Sprintf("user:%d:%s:%d", u.ID, route, a.ID), audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "permission.denied", Resource: "alliance",
			ResourceID: strconv.FormatInt(a.PnwAllianceID, 10), Failed: true,
			New: map[string]any{"route": route, "missing": denied.Missing}})
		s.fail(w, r, http.StatusForbidden, "Forbidden",
			fmt.Sprintf("You may not see %s's page: you are missing %s. Its admins can grant it in Discord (/alliance managers).", a.Name, denied.List()))
		return a, nil, false
	}
	return a, held, true
}

// alliance is the managers' page: members for canViewMembers (the page's
// own permission, as /alliance members), wars and audit log for those who
// hold canViewWars and canViewAuditLog, decided by access from one load of
// the manager's row, as for the commands.
func (s *Site) alliance(w http.ResponseWriter, r *http.Request, u *store.User, _ store.UserSession) {
	ctx := r.Context()
	a, held, ok := s.allianceFor(w, r, u, "/alliances/{slug}")
	if !ok {
		return
	}
	d := allianceData{Alliance: a}
	members, err := s.opts.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		s.gameDown(w, r, err)
		return
	}
	d.Stale = members.Stale
	all := slices.Clone(members.Data)
	slices.SortStableFunc(all, func(x, y pnw.Nation) int { return cmp.Compare(y.Score, x.Score) })
	n := pageParam(r, "members")
	shown := pageOf(all, n)
	ids := make([]int64, 0, len(shown))
	for _, m := range shown {
		if id, err := strconv.ParseInt(m.Id, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	linked, err := s.opts.Store.UserListByNationIDs(ctx, ids)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	for _, m := range shown {
		d.Members = append(d.Members, memberRow{m, slices.ContainsFunc(linked, func(l store.UserListByNationIDsRow) bool {
			return l.PnwNationID != nil && strconv.FormatInt(*l.PnwNationID, 10) == m.Id
		})})
	}
	d.MembersP = newPager(r, "members", n, len(all))

	d.CanBank = s.opts.Bank != nil && held[access.ViewBank]
	d.Ledger = s.opts.Bank != nil
	if d.CanBank {
		if bank, err := s.opts.Bank.Holdings(ctx, a); err != nil {
			s.opts.Logger.WarnContext(ctx, "web alliance bank", "alliance_id", a.ID, "error", err)
			d.BankNote = "The bank cannot be read now: a manager whose game key may see it (alliance_view_bank) links it with /alliance key in Discord."
		} else {
			d.Bank = bankHoldings(bank.Data)
		}
	}

	if d.CanWars = held[access.ViewWars]; d.CanWars {
		wars, err := s.opts.Game.AllianceWars(ctx, int(a.PnwAllianceID))
		if err != nil {
			s.gameDown(w, r, err)
			return
		}
		n := pageParam(r, "wars")
		d.Wars, d.WarsP = pageOf(wars.Data, n), newPager(r, "wars", n, len(wars.Data))
	}

	if d.CanAudit = held[access.ViewAuditLog]; d.CanAudit {
		n := pageParam(r, "audit")
		rows, more, err := audit.Log{Store: s.opts.Store, Logger: s.opts.Logger}.Page(ctx, audit.Query{Alliance: &a.ID}, n, pageSize)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		d.Audit = rows
		total := n*pageSize + len(rows)
		if more {
			total++ // enough for the pager to offer the next page
		}
		d.AuditP = newPager(r, "audit", n, total)
	}
	s.render(w, r, http.StatusOK, "alliance", page{Title: a.Name, User: u, Data: d})
}

func (s *Site) gameDown(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.WarnContext(r.Context(), "web page: game API", "path", r.URL.Path, "error", err)
	s.fail(w, r, http.StatusBadGateway, "The game did not answer", "Politics and War's API did not answer just now. Try again in a moment.")
}

// publicData is /a/{slug}: nothing personal, no Discord ids.
type publicData struct {
	Alliance   pnw.Alliance
	Members    int
	Top        []pnw.Nation
	ActiveWars int
	FetchedAt  time.Time
}

// public is an alliance's public page, only when its admins made it public.
func (s *Site) public(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := s.opts.Store.AllianceGetBySlug(ctx, r.PathValue("slug"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.IsPublic) {
		s.fail(w, r, http.StatusNotFound, "Not found", "No public alliance page has this address.")
		return
	} else if err != nil {
		s.internal(w, r, err)
		return
	}
	info, err := s.opts.Game.Alliance(ctx, int(a.PnwAllianceID))
	if err != nil {
		s.gameDown(w, r, err)
		return
	}
	members, err := s.opts.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		s.gameDown(w, r, err)
		return
	}
	wars, err := s.opts.Game.AllianceWars(ctx, int(a.PnwAllianceID))
	if err != nil {
		s.gameDown(w, r, err)
		return
	}
	var d publicData
	d.Alliance, d.ActiveWars, d.FetchedAt = info.Data, len(wars.Data), info.FetchedAt
	for _, m := range members.Data {
		if m.AlliancePosition.IsMember() {
			d.Top = append(d.Top, m)
		}
	}
	d.Members = len(d.Top)
	slices.SortStableFunc(d.Top, func(x, y pnw.Nation) int { return cmp.Compare(y.Score, x.Score) })
	d.Top = d.Top[:min(len(d.Top), pageSize)]
	// The same for everyone (no user in it), so shared caches may keep it.
	w.Header().Set("Cache-Control", "public, max-age=60")
	s.render(w, r, http.StatusOK, "public", page{Title: info.Data.Name, Data: d})
}

// flagURL keeps a flag only when it is an https URL on the game's hosts,
// the only images the pages' Content-Security-Policy lets in.
func flagURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme == "https" && u.User == nil && u.Port() == "" &&
		(u.Hostname() == "politicsandwar.com" || strings.HasSuffix(u.Hostname(), ".politicsandwar.com")) {
		return raw
	}
	return ""
}
