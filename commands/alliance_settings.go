package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/store"
)

// allianceSettings shows the alliance's settings, or changes those given.
func (d *Deps) allianceSettings(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Public *bool  `discord:"public"`
		Slug   string `discord:"slug"`
		Tax    string `discord:"tax-credit-percent"` // "" when absent
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	u := req.Account
	a := req.Alliance
	if o.Public == nil && o.Slug == "" && o.Tax == "" {
		return &bot.Response{Embeds: []*discordgo.MessageEmbed{settingsEmbed(a, "Settings of "+a.Name)}}, nil
	}
	var slug string
	if o.Slug != "" {
		var err error
		// Checked before the tax credit is written: a refusal changes nothing.
		if slug, err = access.Slug(o.Slug); err != nil {
			return nil, bot.UserErrorf("A slug is lowercase letters and digits in words joined by single hyphens, at most %d characters, such as `the-knights`. Nothing was changed.", access.MaxSlugLength)
		}
	}
	if o.Tax != "" {
		p, err := strconv.ParseFloat(o.Tax, 64)
		if err != nil || p < 0 || p > 100 {
			return nil, bot.UserError("The tax credit is a percent from 0 to 100. Nothing was changed.")
		}
		if _, err := d.Bank.SetTaxCreditPercent(ctx, a, u.ID, p); err != nil {
			return nil, err
		}
		if a, err = d.Store.AllianceGetByID(ctx, a.ID); err != nil {
			return nil, fmt.Errorf("alliance: %w", err)
		}
		if o.Public == nil && o.Slug == "" {
			return &bot.Response{Embeds: []*discordgo.MessageEmbed{settingsEmbed(a, "Settings of "+a.Name+" changed")}}, nil
		}
	}
	public := a.IsPublic
	if o.Public != nil {
		public = *o.Public
	}
	if o.Slug == "" {
		slug = a.RouteSlug
	}
	a, err := d.Access.SetPage(ctx, u.ID, a, public, slug)
	if errors.Is(err, access.ErrSlugTaken) {
		return nil, bot.UserErrorf("The slug `%s` is taken by another alliance. Nothing was changed.", slug)
	} else if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{settingsEmbed(a, "Settings of "+a.Name+" changed")}}, nil
}

func settingsEmbed(a store.Alliance, title string) *discordgo.MessageEmbed {
	public := "No: only its managers see its pages."
	if a.IsPublic {
		public = fmt.Sprintf("Yes: its public page is `/a/%s`.", a.RouteSlug)
	}
	tax := strconv.FormatFloat(bank.AllianceRules(a).TaxCreditPercent, 'f', -1, 64)
	return &discordgo.MessageEmbed{Title: truncate(title, 256), Color: colorDefault, Fields: []*discordgo.MessageEmbedField{
		{Name: "Public", Value: public},
		{Name: "Slug", Value: "`" + a.RouteSlug + "`"},
		{Name: "Tax credit", Value: tax + "% of each member's taxes is credited to their bank balance (/bank balance)."},
	}}
}

const (
	routeAuditPage = "alliance/audit/{owner}/{page}/{user}/{action}"
	auditPageSize  = 8
	// maxActionFilter keeps the audit page's custom_id within 100 characters.
	maxActionFilter = 32
)

var actionPattern = regexp.MustCompile(`^[a-z0-9_.]+$`)

// allianceAudit shows the alliance's audit log, newest first.
func (d *Deps) allianceAudit(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		User   *discordgo.User `discord:"user"`
		Action string          `discord:"action"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	userID := none
	if o.User != nil {
		// Someone without an account has no audit rows: id 0 matches none.
		userID = "0"
		if u, err := d.Store.UserGetByDiscordID(ctx, o.User.ID); err == nil {
			userID = strconv.FormatInt(u.ID, 10)
		}
	}
	action := strings.ToLower(strings.TrimSpace(o.Action))
	if action == "" {
		action = none
	} else if len(action) > maxActionFilter || !actionPattern.MatchString(action) {
		return nil, bot.UserError("An action is lowercase letters, digits, dots and underscores, such as `alliance.manager_add`.")
	}
	return d.auditPage(ctx, req, 0, userID, action)
}

func (d *Deps) allianceAuditPage(ctx context.Context, req *call) (*bot.Response, error) {
	page, err := turnPage(req)
	if err != nil {
		return nil, err
	}
	resp, err := d.auditPage(ctx, req, page, req.Var("user"), req.Var("action"))
	return asPageTurn(resp), err
}

func (d *Deps) auditPage(ctx context.Context, req *call, page int, userID, action string) (*bot.Response, error) {
	a := req.Alliance
	q := audit.Query{Alliance: &a.ID}
	if userID != none {
		id, err := strconv.ParseInt(userID, 10, 64)
		if err != nil {
			return nil, bot.UserError("This page is broken: run /alliance audit again.")
		}
		q.User = &id
	}
	if action != none {
		q.Action = &action
	}
	e, more, err := d.auditEmbed(ctx, truncate("Audit log of "+a.Name, 256), q, page, false)
	if err != nil {
		return nil, err
	}
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e},
		Components: pager(routeAuditPage, req.User.ID, page, more, userID, action)}, nil
}

// auditEmbed renders one page of the audit log (audit.Log.Page), naming
// each row's alliance when withAlliance.
func (d *Deps) auditEmbed(ctx context.Context, title string, q audit.Query, page int, withAlliance bool) (*discordgo.MessageEmbed, bool, error) {
	rows, more, err := d.AuditLog.Page(ctx, q, page, auditPageSize)
	if err != nil {
		return nil, false, err
	}
	e := &discordgo.MessageEmbed{Title: title, Color: colorDefault,
		Footer: &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("Page %d", page+1)}}
	if len(rows) == 0 {
		e.Description = "Nothing recorded."
	}
	for _, r := range rows {
		f := auditField(r.AuditLog, r.DiscordID)
		if withAlliance && r.AllianceName != nil {
			f.Value = fieldValue(f.Value + "\nin " + *r.AllianceName)
		}
		e.Fields = append(e.Fields, f)
	}
	return e, more, nil
}

// auditField renders one audit row, with who acted (their Discord id, nil
// once they deleted their account).
func auditField(l store.AuditLog, discordID *string) *discordgo.MessageEmbedField {
	who := "someone who deleted their account"
	if discordID != nil {
		who = "<@" + *discordID + ">"
	}
	status := ""
	if !l.Success {
		status = " ⛔ refused"
	}
	value := fmt.Sprintf("<t:%d:f> by %s%s", l.CreatedAt.Unix(), who, status)
	if len(l.OldValues) > 0 {
		value += "\nold: " + compactJSON(l.OldValues)
	}
	if len(l.NewValues) > 0 {
		value += "\nnew: " + compactJSON(l.NewValues)
	}
	return &discordgo.MessageEmbedField{Name: truncate(l.Action+" "+l.ResourceType+" "+l.ResourceID, 256), Value: fieldValue(value)}
}

// compactJSON renders stored audit values on one line; they hold no
// secrets (keys are stored as "[redacted]").
func compactJSON(raw json.RawMessage) string {
	return truncate(strings.Join(strings.Fields(string(raw)), " "), 400)
}
