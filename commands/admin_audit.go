package commands

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/store"
)

// routeAdminAuditPage carries the filters: user and alliance ids, action
// and since as days since 1970 (to fit in a custom_id's 100 characters).
const routeAdminAuditPage = "admin/audit/{owner}/{page}/{user}/{alliance}/{action}/{since}"

// adminAudit shows the whole audit log, newest first, filtered.
func (d *Deps) adminAudit(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		User     *discordgo.User `discord:"user"`
		Alliance string          `discord:"alliance"`
		Action   string          `discord:"action"`
		Since    string          `discord:"since"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	userID, allianceID, action, since := none, none, none, none
	if o.User != nil {
		// Someone without an account has no audit rows: id 0 matches none.
		userID = "0"
		if u, err := d.Store.UserGetByDiscordID(ctx, o.User.ID); err == nil {
			userID = strconv.FormatInt(u.ID, 10)
		}
	}
	if strings.TrimSpace(o.Alliance) != "" {
		a, err := d.optionAlliance(ctx, o.Alliance)
		if err != nil {
			return nil, err
		}
		allianceID = strconv.FormatInt(a.ID, 10)
	}
	if a := strings.ToLower(strings.TrimSpace(o.Action)); a != "" {
		if len(a) > maxActionFilter || !actionPattern.MatchString(a) {
			return nil, bot.UserError("An action is lowercase letters, digits, dots and underscores, such as `admin.grant`.")
		}
		action = a
	}
	if s := strings.TrimSpace(o.Since); s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, bot.UserError("Give since as a date, such as 2026-11-01 (UTC).")
		}
		since = strconv.FormatInt(t.Unix()/86400, 10)
	}
	return d.adminAuditPage(ctx, req, 0, userID, allianceID, action, since)
}

func (d *Deps) adminAuditTurn(ctx context.Context, req *call) (*bot.Response, error) {
	page, err := turnPage(req)
	if err != nil {
		return nil, err
	}
	resp, err := d.adminAuditPage(ctx, req, page, req.Var("user"), req.Var("alliance"), req.Var("action"), req.Var("since"))
	return asPageTurn(resp), err
}

func (d *Deps) adminAuditPage(ctx context.Context, req *call, page int, userID, allianceID, action, since string) (*bot.Response, error) {
	ctx = store.ForReport(ctx)
	var q audit.Query
	id := func(s string) (*int64, error) {
		if s == none {
			return nil, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bot.UserError("This page is broken: run /admin audit again.")
		}
		return &n, nil
	}
	var err error
	if q.User, err = id(userID); err != nil {
		return nil, err
	}
	if q.Alliance, err = id(allianceID); err != nil {
		return nil, err
	}
	days, err := id(since)
	if err != nil {
		return nil, err
	}
	if days != nil {
		t := time.Unix(*days*86400, 0).UTC()
		q.Since = &t
	}
	if action != none {
		q.Action = &action
	}
	e, more, err := d.auditEmbed(ctx, "Audit log", q, page, true)
	if err != nil {
		return nil, err
	}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e},
		Components: pager(routeAdminAuditPage, req.User.ID, page, more, userID, allianceID, action, since)}, nil
}
