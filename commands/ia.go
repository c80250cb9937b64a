package commands

// /audit: internal affairs (package ia). Not /alliance audit, the log of
// who did what.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/ia"
	"pnwbot/store"
)

const routeAuditRunPage = "audit/run/{owner}/{page}/{nation}"

// Bounds of the rules' numbers.
const (
	maxRuleDays    = 365
	maxMinCities   = 100
	maxRulePercent = 100
)

func (d *Deps) iaCommand() bot.Command {
	str, integer := discordgo.ApplicationCommandOptionString, discordgo.ApplicationCommandOptionInteger
	zero, one := 0.0, 1.0
	kinds := make([]string, len(ia.Kinds))
	for i, k := range ia.Kinds {
		kinds[i] = string(k)
	}
	kind := &discordgo.ApplicationCommandOption{Type: str, Name: "kind", Description: "The kind of rule", Required: true, Choices: choices(kinds...)}
	cities := &discordgo.ApplicationCommandOption{Type: integer, Name: "cities", Description: "mmr: only for nations with at least this many cities",
		MinValue: &zero, MaxValue: maxMinCities}
	runSlash, runTurn := view(d.auditRunView, "nation")
	needManage, needView := access.Alliance(access.ManageMembers), access.Alliance(access.ViewMembers)
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "audit",
			Description: "Member audits: rules your alliance sets, who fails them, a daily report",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "rules", Description: "The alliance's audit rules", Options: []*discordgo.ApplicationCommandOption{
					sub("list", "List the alliance's audit rules"),
					sub("set", "Add or change a rule", kind,
						&discordgo.ApplicationCommandOption{Type: integer, Name: "days", Description: "inactive (default 3), applicant (default 2): days allowed",
							MinValue: &one, MaxValue: maxRuleDays},
						&discordgo.ApplicationCommandOption{Type: str, Name: "mmr", Description: "mmr: barracks/factories/hangars/drydocks per city, e.g. 5/5/5/3",
							MaxLength: 20},
						cities,
						&discordgo.ApplicationCommandOption{Type: integer, Name: "percent", Description: "military: least share of what the buildings allow",
							MinValue: &one, MaxValue: maxRulePercent}),
					sub("remove", "Remove a rule", kind, cities),
				}},
				sub("run", "Who fails which rule, and why in numbers",
					&discordgo.ApplicationCommandOption{Type: str, Name: "nation", Description: "Only this member (name or id)", Autocomplete: true, MaxLength: maxNameLength}),
				sub("channel", "Where and when the daily audit report goes",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel", Description: "The channel",
						Required: true, ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText}},
					&discordgo.ApplicationCommandOption{Type: integer, Name: "hour", Description: "The UTC hour it is due (default: now)", MinValue: &zero, MaxValue: 23}),
				{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "automation", Description: "The audit acting on members", Options: []*discordgo.ApplicationCommandOption{
					sub("inactive-bracket", "Move members inactive this many days to a tax bracket, and back when active",
						&discordgo.ApplicationCommandOption{Type: integer, Name: "days", Description: "Days inactive (0 turns it off)", Required: true,
							MinValue: &zero, MaxValue: maxRuleDays},
						&discordgo.ApplicationCommandOption{Type: integer, Name: "bracket", Description: "The tax bracket's id (in the game: Alliance, then Taxes)",
							Required: true, MinValue: &one}),
				}},
			},
		},
		Routes: d.routes(
			route{Path: "/audit/rules/list", Need: needManage, Handler: d.auditRulesList, Ephemeral: true},
			route{Path: "/audit/rules/set", Need: needManage, Handler: d.auditRulesSet, Ephemeral: true},
			route{Path: "/audit/rules/remove", Need: needManage, Handler: d.auditRulesRemove, Ephemeral: true},
			route{Path: "/audit/run", Need: needView, Handler: runSlash, Autocomplete: d.nationAutocomplete, Ephemeral: true},
			route{Path: routeAuditRunPage, Need: needView, OwnerOnly: true, Handler: runTurn, Ephemeral: true},
			route{Path: "/audit/channel", Need: access.Alliance(access.ManageSettings), Handler: d.auditChannel, Ephemeral: true},
			route{Path: "/audit/automation/inactive-bracket", Need: needManage, Handler: d.auditAutomation, Ephemeral: true},
			// The undo answers on the channel's message, for all to see.
			route{Path: routeAuditUndo, Need: needManage, Handler: d.auditUndo},
		),
	}
}

// IAGuild lists a server's members by id, for the audit's discord rule,
// with the bot's REST client: ia.Guild.
type IAGuild struct{ Discord Guilds }

func (g IAGuild) MemberIDs(ctx context.Context, guildID string) ([]string, error) {
	members, err := g.Discord.GuildMembers(ctx, guildID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(members))
	for _, m := range members {
		if m.User != nil {
			ids = append(ids, m.User.ID)
		}
	}
	return ids, nil
}

func (d *Deps) auditRulesList(ctx context.Context, req *call) (*bot.Response, error) {
	a := req.Alliance
	rules, err := d.IA.Auditor.Rules(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	e := &discordgo.MessageEmbed{Title: truncate("Audit rules of "+a.Name, 256), Color: colorDefault}
	if len(rules) == 0 {
		e.Description = "No rules yet: add one with /audit rules set."
	}
	var lines []string
	for _, r := range rules {
		lines = append(lines, "• "+r.String())
	}
	e.Description = strings.TrimSpace(e.Description + strings.Join(lines, "\n"))
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}}, nil
}

// ruleOptions are /audit rules set's and remove's options.
type ruleOptions struct {
	Kind   string `discord:"kind"`
	Days   int    `discord:"days"`
	MMR    string `discord:"mmr"`
	Cities int    `discord:"cities"` // -1 when absent

	Percent int `discord:"percent"`
}

// rule turns the options into a rule, or says what is wrong with them.
func (o ruleOptions) rule() (ia.Rule, error) {
	r := ia.Rule{Kind: ia.Kind(o.Kind), Threshold: o.Days}
	cities := max(o.Cities, 0)
	extra := func(allowed ...string) error {
		given := map[string]bool{"days": o.Days != 0, "mmr": o.MMR != "", "cities": o.Cities >= 0, "percent": o.Percent != 0}
		for name, set := range given {
			if set && !slices.Contains(allowed, name) {
				return bot.UserErrorf("A %s rule takes no %s. Nothing was changed.", o.Kind, name)
			}
		}
		return nil
	}
	var err error
	switch r.Kind {
	case ia.Inactive, ia.Applicant:
		err = extra("days")
		if r.Threshold == 0 {
			r.Threshold = map[ia.Kind]int{ia.Inactive: ia.DefaultInactiveDays, ia.Applicant: ia.DefaultApplicantDays}[r.Kind]
		}
		if r.Threshold < 1 || r.Threshold > maxRuleDays {
			err = bot.UserErrorf("Days go from 1 to %d. Nothing was changed.", maxRuleDays)
		}
	case ia.Color, ia.Discord:
		err = extra()
	case ia.MMR:
		err = extra("mmr", "cities")
		if err == nil && o.MMR == "" {
			err = bot.UserError("An mmr rule needs mmr: barracks/factories/hangars/drydocks per city, e.g. 5/5/5/3. Nothing was changed.")
		} else if err == nil {
			var perr error
			if r.MMR, perr = ia.ParseMMR(o.MMR); perr != nil {
				err = bot.UserErrorf("%s%s. Nothing was changed.", strings.ToUpper(perr.Error()[:1]), perr.Error()[1:])
			}
		}
		if cities > maxMinCities {
			err = bot.UserErrorf("Cities go from 0 to %d. Nothing was changed.", maxMinCities)
		}
		r.MinCities = cities
	case ia.Military:
		err = extra("percent")
		r.Threshold = o.Percent
		if err == nil && (r.Threshold < 1 || r.Threshold > maxRulePercent) {
			err = bot.UserError("A military rule needs percent, from 1 to 100. Nothing was changed.")
		}
	default:
		err = bot.UserError("Pick the kind of rule from the list. Nothing was changed.")
	}
	return r, err
}

func (d *Deps) auditRulesSet(ctx context.Context, req *call) (*bot.Response, error) {
	o := ruleOptions{Cities: -1}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	u, a := req.Account, req.Alliance
	r, err := o.rule()
	if err != nil {
		return nil, err
	}
	before, err := d.IA.SetRule(ctx, u.ID, a, r)
	if err != nil {
		return nil, fmt.Errorf("set audit rule: %w", err)
	}
	done := "Added the rule " + r.String() + "."
	if before != nil {
		done = fmt.Sprintf("Changed the rule %s to %s.", before.String(), r.String())
	}
	return &bot.Response{Ephemeral: true, Content: done + " /audit run shows who fails it."}, nil
}

func (d *Deps) auditRulesRemove(ctx context.Context, req *call) (*bot.Response, error) {
	o := ruleOptions{Cities: -1}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	u, a := req.Account, req.Alliance
	if !slices.Contains(ia.Kinds, ia.Kind(o.Kind)) {
		return nil, bot.UserError("Pick the kind of rule from the list. Nothing was changed.")
	}
	var minCities *int
	if o.Cities >= 0 {
		minCities = &o.Cities
	}
	rules, err := d.IA.RemoveRules(ctx, u.ID, a, ia.Kind(o.Kind), minCities)
	if errors.Is(err, ia.ErrNoSuchRule) {
		return nil, bot.UserErrorf("%s has no %s rule to remove: /audit rules list shows its rules.", a.Name, o.Kind)
	} else if err != nil {
		return nil, fmt.Errorf("remove audit rule: %w", err)
	}
	removed := make([]string, len(rules))
	for i, r := range rules {
		removed[i] = r.String()
	}
	return &bot.Response{Ephemeral: true, Content: "Removed the rule " + strings.Join(removed, "; and the rule ") + "."}, nil
}

// auditRunView is /audit run and its pages: the members failing a rule,
// worst first, ten a page, and how many pass.
func (d *Deps) auditRunView(ctx context.Context, req *call, n int, args []string) (*bot.Response, error) {
	nation, err := d.viewNation(ctx, req, args)
	if err != nil {
		return nil, err
	}
	id := 0
	if nation != none {
		if id, err = strconv.Atoi(nation); err != nil {
			return nil, bot.UserError("This page is broken: run the command again.")
		}
	}
	a := req.Alliance
	rep, err := d.IA.Auditor.Run(ctx, a, id, d.Now())
	switch {
	case errors.Is(err, ia.ErrNoRules):
		return nil, bot.UserErrorf("%s has no audit rules yet: a manager adds them with /audit rules set.", a.Name)
	case err != nil:
		return nil, domainError(err, "")
	case id != 0 && len(rep.Members) == 0:
		return nil, bot.UserErrorf("Nation %d is not in %s.", id, a.Name)
	}
	e := auditEmbed(a, rep)
	if id != 0 && len(rep.Failing) == 0 {
		e.Description += fmt.Sprintf("\n\n**%s** passes every rule.", rep.Members[0].Name)
	}
	lines := auditLines(rep.Failing)
	shown, more := page(lines, n)
	e.Description = strings.TrimSpace(e.Description + "\n\n" + strings.Join(shown, "\n"))
	pageFooter(e, n, len(lines))
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}, Components: pager(routeAuditRunPage, req.User.ID, n, more, nation)}, nil
}

// auditEmbed heads a report: how many fail and pass, and against what.
func auditEmbed(a store.Alliance, rep ia.Report) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{Title: truncate("Audit of "+a.Name, 256), Color: colorDefault}
	if len(rep.Failing) > 0 {
		e.Color = colorDanger
	}
	e.Description = fmt.Sprintf("**%d** failing · **%d** passing · %d rules", len(rep.Failing), rep.Passing, len(rep.Rules))
	if rep.ServerUnchecked {
		e.Description += "\n⚠️ The bot may not list this server's members (the Server Members intent), so the discord rule checked links only."
	}
	e.Timestamp = rep.FetchedAt.UTC().Format("2006-01-02T15:04:05Z07:00")
	if rep.Stale {
		e.Description = fmt.Sprintf("⚠️ The game is not answering: this is cached data from <t:%d:R>.\n", rep.FetchedAt.Unix()) + e.Description
	}
	return e
}

// auditLines are the failing members, one line each, in the report's
// order: "**Nation** (Leader): inactive 5 days, rule 3 · ...".
func auditLines(failing []ia.Result) []string {
	lines := make([]string, len(failing))
	for i, r := range failing {
		texts := make([]string, len(r.Failures))
		for j, f := range r.Failures {
			texts[j] = f.Text
		}
		who := fmt.Sprintf("**[%s](%s)**", r.Member.Name, nationURL(strconv.Itoa(r.Member.NationID)))
		if r.Member.DiscordID != "" {
			who += " <@" + r.Member.DiscordID + ">"
		}
		lines[i] = truncate(who+": "+strings.Join(texts, " · "), 350)
	}
	return lines
}
