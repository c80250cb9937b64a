package commands

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
)

func (d *Deps) allianceCommand() bot.Command {
	str := discordgo.ApplicationCommandOptionString
	user := func(desc string, required bool) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: desc, Required: required}
	}
	roles := make([]*discordgo.ApplicationCommandOptionChoice, len(access.Roles))
	for i, r := range access.Roles {
		roles[i] = &discordgo.ApplicationCommandOptionChoice{Name: r, Value: r}
	}
	role := &discordgo.ApplicationCommandOption{Type: str, Name: "role", Description: "viewer, manager or admin", Required: true, Choices: roles}
	perms := make([]*discordgo.ApplicationCommandOptionChoice, len(access.Permissions))
	for i, p := range access.Permissions {
		perms[i] = &discordgo.ApplicationCommandOptionChoice{Name: string(p), Value: string(p)}
	}
	one, zero := 1.0, 0.0
	limit := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "limit", Description: "How many of the latest (default 50)", MinValue: &one, MaxValue: 1000}
	var (
		needSettings = access.Alliance(access.ManageSettings)
		needMembers  = access.Alliance(access.ViewMembers)
		needBank     = access.Alliance(access.ViewBank)
		needWars     = access.Alliance(access.ViewWars)
		needTrades   = access.Alliance(access.ViewTrades)
		needAudit    = access.Alliance(access.ViewAuditLog)
	)
	membersSlash, membersTurn := view(d.membersView, "sort", "filter")
	historySlash, historyTurn := view(d.historyView, "nation", "limit")
	taxesSlash, taxesTurn := view(d.taxesView, "limit")
	warsSlash, warsTurn := view(d.warsView, "nation")
	tradesSlash, tradesTurn := view(d.tradesView, "limit")
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "alliance",
			Description: "Alliances: look them up and run yours",
			Options: append([]*discordgo.ApplicationCommandOption{
				sub("info", "Show an alliance's card",
					&discordgo.ApplicationCommandOption{Type: str, Name: "alliance", Description: "Alliance name, acronym or id", Autocomplete: true, MaxLength: maxNameLength}),
				sub("setup", "Bind this server to your alliance and become its first admin (leader or heir)"),
				{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "managers", Description: "Who manages the alliance, with what", Options: []*discordgo.ApplicationCommandOption{
					sub("list", "List the alliance's managers"),
					sub("add", "Make someone a manager", user("Who", true), role),
					sub("remove", "Remove a manager", user("Who", true)),
					sub("role", "Change a manager's role", user("Who", true), role),
					sub("permission", "Grant or take away one permission of a manager", user("Who", true),
						&discordgo.ApplicationCommandOption{Type: str, Name: "permission", Description: "The permission", Required: true, Choices: perms},
						&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "value", Description: "Granted or not", Required: true}),
				}},
				sub("key", "Link your alliance key in a direct message, see its status, or forget it"),
				sub("members", "The alliance's members, applicants and vacation mode marked",
					&discordgo.ApplicationCommandOption{Type: str, Name: "sort", Description: "Order (default score)", Choices: choices("score", "cities", "last_active")},
					&discordgo.ApplicationCommandOption{Type: str, Name: "filter", Description: "Which (default all)", Choices: choices("all", "members", "applicants", "vacation")}),
				sub("bank", "The alliance bank: money and resources, with their value"),
				sub("bank-history", "The alliance bank's records, newest first, with totals",
					&discordgo.ApplicationCommandOption{Type: str, Name: "nation", Description: "Only this nation's (name or id)", Autocomplete: true, MaxLength: maxNameLength}, limit),
				sub("taxes", "The alliance's tax records, newest first, with totals", limit),
				sub("wars", "Active offensive and defensive wars of the alliance's members"),
				sub("trades", "Recent trades of the alliance's members", limit),
				sub("settings", "Show or change the alliance's settings",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "public", Description: "Whether the alliance's page is public"},
					&discordgo.ApplicationCommandOption{Type: str, Name: "slug", Description: "The alliance's page address, e.g. the-knights", MaxLength: access.MaxSlugLength},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionNumber, Name: "tax-credit-percent",
						Description: "Share of members' taxes credited to their bank balance (bank.tax_credit_percent)", MinValue: &zero, MaxValue: 100}),
				sub("audit", "The alliance's audit log", user("Only what this user did", false),
					&discordgo.ApplicationCommandOption{Type: str, Name: "action", Description: "Only this action, e.g. alliance.manager_add", MaxLength: maxActionFilter}),
				d.withdrawSubcommand(),
				d.memberGroup(),
			}, d.rolesSubcommands()...),
		},
		Routes: d.routes(append([]route{
			{Path: "/alliance/info", Handler: d.allianceInfo, Autocomplete: d.allianceAutocomplete},
			{Path: "/alliance/setup", Discord: discordgo.PermissionManageGuild, Handler: d.allianceSetup, Ephemeral: true},
			{Path: routeAllianceMove, Discord: discordgo.PermissionManageGuild, Handler: d.allianceMoveConfirm, Ephemeral: true},
			{Path: routeAllianceCancel, Handler: d.allianceCancel, Ephemeral: true},
			{Path: "/alliance/managers/list", Need: needSettings, Handler: d.allianceManagersList, Ephemeral: true},
			{Path: "/alliance/managers/add", Need: needSettings, Handler: d.allianceManagersAdd, Ephemeral: true},
			{Path: "/alliance/managers/remove", Need: needSettings, Handler: d.allianceManagersRemove, Ephemeral: true},
			{Path: "/alliance/managers/role", Need: needSettings, Handler: d.allianceManagersRole, Ephemeral: true},
			{Path: "/alliance/managers/permission", Need: needSettings, Handler: d.allianceManagersPermission, Ephemeral: true},
			{Path: "/alliance/key", Handler: d.allianceKey, Ephemeral: true},
			// Linking an alliance key is linking a key: canLinkApiKey holds for it too.
			{Path: routeKeyOpen, Need: access.Member(access.LinkAPIKey), Handler: d.allianceKeyOpen},
			{Path: routeKeySubmit, Need: access.Member(access.LinkAPIKey), Handler: d.allianceKeySubmit, Ephemeral: true},
			{Path: routeKeyForget, Handler: d.allianceKeyForget, Ephemeral: true},
			{Path: "/alliance/members", Need: needMembers, Handler: membersSlash, Ephemeral: true},
			{Path: routeMembersPage, Need: needMembers, OwnerOnly: true, Handler: membersTurn, Ephemeral: true},
			{Path: "/alliance/bank", Need: needBank, Handler: d.allianceBank, Ephemeral: true},
			{Path: "/alliance/bank-history", Need: needBank, Handler: historySlash, Autocomplete: d.nationAutocomplete, Ephemeral: true},
			{Path: routeHistoryPage, Need: needBank, OwnerOnly: true, Handler: historyTurn, Ephemeral: true},
			{Path: "/alliance/taxes", Need: needBank, Handler: taxesSlash, Ephemeral: true},
			{Path: routeTaxesPage, Need: needBank, OwnerOnly: true, Handler: taxesTurn, Ephemeral: true},
			{Path: "/alliance/wars", Need: needWars, Handler: warsSlash, Ephemeral: true},
			{Path: routeWarsPage, Need: needWars, OwnerOnly: true, Handler: warsTurn, Ephemeral: true},
			{Path: "/alliance/trades", Need: needTrades, Handler: tradesSlash, Ephemeral: true},
			{Path: routeTradesPage, Need: needTrades, OwnerOnly: true, Handler: tradesTurn, Ephemeral: true},
			{Path: "/alliance/settings", Need: needSettings, Handler: d.allianceSettings, Ephemeral: true},
			{Path: "/alliance/audit", Need: needAudit, Handler: d.allianceAudit, Ephemeral: true},
			{Path: routeAuditPage, Need: needAudit, OwnerOnly: true, Handler: d.allianceAuditPage, Ephemeral: true},
		}, slices.Concat(d.withdrawRoutes(), d.memberRoutes(), d.rolesRoutes())...)...),
	}
}

func (d *Deps) allianceInfo(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Alliance string `discord:"alliance"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	var id int
	var err error
	if q := strings.TrimSpace(opts.Alliance); q != "" {
		id, err = d.allianceNames().resolve(ctx, q)
	} else {
		id, err = d.ownAlliance(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	r, err := d.Game.Alliance(ctx, id)
	if errors.Is(err, pnw.ErrNotFound) {
		return nil, bot.UserErrorf("The game has no alliance with id %d.", id)
	} else if err != nil {
		return nil, gameError(err, "")
	}
	d.rememberAlliance(ctx, int64(id), r.Data.Name, r.Data.Acronym)
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{allianceEmbed(r)}}, nil
}

// ownAlliance is the alliance of the caller's linked nation.
func (d *Deps) ownAlliance(ctx context.Context, req *call) (int, error) {
	nationID, err := d.callerNation(req, "You haven't linked a nation yet: use /link, or give an alliance name.")
	if err != nil {
		return 0, err
	}
	r, err := d.Game.Nation(ctx, nationID)
	if err != nil {
		return 0, gameError(err, "")
	}
	id, _ := strconv.Atoi(r.Data.AllianceId)
	if id == 0 {
		return 0, bot.UserError("Your nation is not in an alliance. Give an alliance name to look one up.")
	}
	return id, nil
}

// allianceNames looks up alliances by name or acronym.
func (d *Deps) allianceNames() nameLookup {
	return nameLookup{
		kind: "alliance",
		seen: func(ctx context.Context, name string) (int64, error) {
			row, err := d.Store.SeenAllianceByName(ctx, name)
			return row.AllianceID, err
		},
		game: func(ctx context.Context, name string) (string, error) {
			r, err := d.Game.AlliancesByName(ctx, name)
			for _, a := range r.Data {
				if strings.EqualFold(a.Name, name) || strings.EqualFold(a.Acronym, name) {
					return a.Id, nil
				}
			}
			return "", err
		},
		search: func(ctx context.Context, text string, limit int32) ([]knownName, error) {
			rows, err := d.Store.SeenAllianceSearch(ctx, store.SeenAllianceSearchParams{Query: text, RowLimit: limit})
			names := make([]knownName, len(rows))
			for i, row := range rows {
				label := row.Name
				if row.Acronym != "" {
					label += " (" + row.Acronym + ")"
				}
				names[i] = knownName{id: row.AllianceID, name: row.Name, label: label}
			}
			return names, err
		},
	}
}

func (d *Deps) allianceAutocomplete(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Alliance string `discord:"alliance"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	return d.allianceNames().autocomplete(ctx, opts.Alliance)
}

// rememberAlliance records an alliance's name and acronym for autocomplete
// and name lookups.
func (d *Deps) rememberAlliance(ctx context.Context, id int64, name, acronym string) {
	d.remember(ctx, "alliance:"+strconv.FormatInt(id, 10), name+"\x00"+acronym, func() error {
		return d.Store.SeenAllianceUpsert(ctx, store.SeenAllianceUpsertParams{AllianceID: id, Name: name, Acronym: acronym})
	})
}
