package site

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/store"
)

// adminData is /admin: each section only for the admins who hold its
// permission, decided by access from one load, as the /admin commands are.
type adminData struct {
	Users     []store.User
	UsersNext string
	CanUsers  bool

	Alliances    []store.Alliance
	CanAlliances bool

	Audit      []store.AuditLog
	AuditNext  string
	AuditQuery auditQuery
	AuditNote  string
	CanAudit   bool

	Config    []store.AppConfig
	Usage     usageChart
	CanSystem bool
}

type auditQuery struct{ Action, User, Since string }

const adminPageSize = 25

func (s *Site) admin(w http.ResponseWriter, r *http.Request, u *store.User, _ store.UserSession) {
	ctx := r.Context()
	var d adminData
	held, err := access.LoadSystem(ctx, s.opts.Store, u.ID) // once for the page
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "system permission", "error", err)
	}
	d.CanUsers, d.CanAlliances, d.CanAudit, d.CanSystem =
		held[access.ManageUsers], held[access.ManageAlliances], held[access.ViewAuditLogs], held[access.ManageSystem]
	if !d.CanUsers && !d.CanAlliances && !d.CanAudit && !d.CanSystem {
		s.auditOnce(r, "user:"+strconv.FormatInt(u.ID, 10)+":admin", audit.Entry{User: &u.ID, Action: "permission.denied", Resource: "system", Failed: true,
			New: map[string]any{"route": "/admin", "missing": "system admin"}})
		s.fail(w, r, http.StatusForbidden, "Forbidden", "This page is for pnwbot's system admins.")
		return
	}
	ctx = store.ForReport(ctx)
	q := r.URL.Query()
	if d.CanUsers {
		after, _ := strconv.ParseInt(q.Get("users_after"), 10, 64)
		if d.Users, err = s.opts.Store.UserList(ctx, store.UserListParams{AfterID: after, RowLimit: adminPageSize + 1}); err != nil {
			s.internal(w, r, err)
			return
		}
		if len(d.Users) > adminPageSize {
			d.Users = d.Users[:adminPageSize]
			d.UsersNext = withParam(r, "users_after", strconv.FormatInt(d.Users[adminPageSize-1].ID, 10))
		}
	}
	if d.CanAlliances {
		if d.Alliances, err = s.opts.Store.AllianceList(ctx, store.AllianceListParams{AfterID: 0, RowLimit: 200}); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	if d.CanAudit {
		if err := s.auditSearch(r, &d); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	if d.CanSystem {
		if d.Config, err = s.opts.Store.AppConfigList(ctx, nil); err != nil {
			s.internal(w, r, err)
			return
		}
		days, err := s.opts.Store.APIUsageLogDaily(ctx, s.opts.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -13))
		if err != nil {
			s.internal(w, r, err)
			return
		}
		d.Usage = newUsageChart(days)
	}
	s.render(w, r, http.StatusOK, "admin", page{Title: "Admin", User: u, Data: d})
}

// auditSearch fills the audit section: the whole log, newest first,
// filtered by action, Discord user and day, 25 a page.
func (s *Site) auditSearch(r *http.Request, d *adminData) error {
	q := r.URL.Query()
	d.AuditQuery = auditQuery{Action: q.Get("action"), User: q.Get("user"), Since: q.Get("since")}
	p := store.AuditLogListParams{RowLimit: adminPageSize + 1}
	if a := d.AuditQuery.Action; a != "" {
		p.Action = &a
	}
	if id := d.AuditQuery.User; id != "" {
		u, err := s.opts.Store.UserGetByDiscordID(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			d.AuditNote = "No pnwbot user has this Discord id."
			return nil
		} else if err != nil {
			return err
		}
		p.UserID = &u.ID
	}
	if since := d.AuditQuery.Since; since != "" {
		t, err := time.Parse(time.DateOnly, since)
		if err != nil {
			d.AuditNote = "Since must be a date such as 2025-01-31."
			return nil
		}
		p.Since = &t
	}
	if t, err := time.Parse(time.RFC3339Nano, q.Get("before")); err == nil {
		id, _ := strconv.ParseInt(q.Get("before_id"), 10, 64)
		p.CursorTime, p.CursorID = &t, &id
	}
	rows, err := s.opts.Store.AuditLogList(r.Context(), p)
	if err != nil {
		return err
	}
	if len(rows) > adminPageSize {
		rows = rows[:adminPageSize]
		last := rows[adminPageSize-1]
		next := r.URL.Query()
		next.Set("before", last.CreatedAt.Format(time.RFC3339Nano))
		next.Set("before_id", strconv.FormatInt(last.ID, 10))
		d.AuditNext = r.URL.Path + "?" + next.Encode()
	}
	d.Audit = rows
	return nil
}

func withParam(r *http.Request, name, value string) string {
	q := r.URL.Query()
	q.Set(name, value)
	return r.URL.Path + "?" + url.Values(q).Encode()
}

// usageChart is the last 14 days of game API calls as SVG bars: requests
// sent to the game, with the cache's answers stacked on top.
type usageChart struct {
	Bars          []usageBar
	Max           int64
	Requests      int64
	CacheHits     int64
	Width, Height int
}

type usageBar struct {
	Day                    string
	Requests, CacheHits    int64
	X, Y, H, HitY, HitH, W int
}

const chartHeight, barWidth, barGap = 160, 28, 8

func newUsageChart(days []store.APIUsageLogDailyRow) usageChart {
	c := usageChart{Height: chartHeight + 20}
	for _, d := range days {
		c.Max = max(c.Max, d.Requests+d.CacheHits)
		c.Requests += d.Requests
		c.CacheHits += d.CacheHits
	}
	scale := func(n int64) int {
		if c.Max == 0 {
			return 0
		}
		return int(n * chartHeight / c.Max)
	}
	for i, d := range days {
		b := usageBar{Day: d.Day, Requests: d.Requests, CacheHits: d.CacheHits, X: i * (barWidth + barGap), W: barWidth}
		b.H, b.HitH = scale(d.Requests), scale(d.CacheHits)
		b.Y = chartHeight - b.H
		b.HitY = b.Y - b.HitH
		c.Bars = append(c.Bars, b)
	}
	c.Width = max(len(days)*(barWidth+barGap), 1)
	return c
}
