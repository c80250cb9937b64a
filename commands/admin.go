package commands

import (
	"context"
	"errors"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/store"
)

// adminCommand is /admin: system management for the instance's admins,
// each subcommand checked against the caller's system_admins row.
func (d *Deps) adminCommand() bot.Command {
	str := discordgo.ApplicationCommandOptionString
	group := func(name, desc string, subs ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: name, Description: desc, Options: subs}
	}
	user := func(desc string, required bool) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: desc, Required: required}
	}
	systemPerms := make([]string, len(access.SystemPermissions))
	for i, p := range access.SystemPermissions {
		systemPerms[i] = string(p)
	}
	alliance := func(required bool) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: str, Name: "alliance", Description: "Name, acronym or game id of an alliance pnwbot runs",
			Required: required, Autocomplete: true, MaxLength: maxNameLength}
	}
	oneDay := 1.0
	value := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "value", Description: "Granted or not", Required: true}
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "admin",
			Description: "System management, for pnwbot's admins",
			Options: []*discordgo.ApplicationCommandOption{
				group("admins", "Who administers pnwbot",
					sub("list", "List the system admins"),
					sub("grant", "Make someone a system admin, or change their level", user("Who", true),
						&discordgo.ApplicationCommandOption{Type: str, Name: "level", Description: "admin or super_admin", Required: true, Choices: choices(access.Levels...)}),
					sub("revoke", "Take away someone's system admin level", user("Who", true)),
					sub("permission", "Grant or take away one permission of an admin", user("Who", true),
						&discordgo.ApplicationCommandOption{Type: str, Name: "permission", Description: "The permission", Required: true, Choices: choices(systemPerms...)}, value),
				),
				group("config", "Run-time settings (app_config)", configOptions()...),
				group("cache", "The game data cache",
					sub("stats", "Lookups and cache hits per operation, last 24 hours"),
					sub("invalidate", "Drop every cache entry with a tag",
						&discordgo.ApplicationCommandOption{Type: str, Name: "tag", Description: "nation:ID or alliance:ID (the game's id)", Required: true, MaxLength: 40})),
				sub("usage", "Game API usage: per day, cache, slowest, top users and alliances, budget, with a chart",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "days", Description: "How many days (default 7)", MinValue: &oneDay, MaxValue: 90}),
				sub("user", "Anyone's pnwbot profile (never a key)", user("Who", true)),
				sub("user-permission", "Grant or take away one member permission", user("Who", true),
					&discordgo.ApplicationCommandOption{Type: str, Name: "permission", Description: "The permission", Required: true, Choices: choices(memberPermissions...)}, value),
				sub("alliances", "The alliances pnwbot runs"),
				sub("alliance", "One alliance: managers, settings, server", alliance(true)),
				sub("assign", "Make someone a manager of an alliance", alliance(true), user("Who", true),
					&discordgo.ApplicationCommandOption{Type: str, Name: "role", Description: "viewer, manager or admin", Required: true, Choices: choices(access.Roles...)}),
				sub("unassign", "Remove a manager from an alliance", alliance(true), user("Who", true)),
				sub("audit", "The whole audit log, newest first", user("Only what this user did", false), alliance(false),
					&discordgo.ApplicationCommandOption{Type: str, Name: "action", Description: "Only this action, e.g. admin.grant", MaxLength: maxActionFilter},
					&discordgo.ApplicationCommandOption{Type: str, Name: "since", Description: "Only since this date, e.g. 2026-11-01 (UTC)", MaxLength: 10}),
			},
		},
		Routes: []bot.Route{
			{Path: "/admin/admins/list", Handler: d.adminAdminsList, Ephemeral: true},
			{Path: "/admin/admins/grant", Handler: d.adminAdminsGrant, Ephemeral: true},
			{Path: "/admin/admins/revoke", Handler: d.adminAdminsRevoke, Ephemeral: true},
			{Path: "/admin/admins/permission", Handler: d.adminAdminsPermission, Ephemeral: true},
			{Path: "/admin/user", Handler: d.adminUser, Ephemeral: true},
			{Path: "/admin/user-permission", Handler: d.adminUserPermission, Ephemeral: true},
			{Path: "/admin/alliances", Handler: d.adminAlliances, Ephemeral: true},
			{Path: routeAdminAlliancesPage, Handler: d.adminAlliancesTurn, Ephemeral: true},
			{Path: "/admin/alliance", Handler: d.adminAlliance, Autocomplete: d.adminAllianceAutocomplete, Ephemeral: true},
			{Path: "/admin/assign", Handler: d.adminAssign, Autocomplete: d.adminAllianceAutocomplete, Ephemeral: true},
			{Path: "/admin/unassign", Handler: d.adminUnassign, Autocomplete: d.adminAllianceAutocomplete, Ephemeral: true},
			{Path: "/admin/audit", Handler: d.adminAudit, Autocomplete: d.adminAllianceAutocomplete, Ephemeral: true},
			{Path: routeAdminAuditPage, Handler: d.adminAuditTurn, Ephemeral: true},
			{Path: "/admin/cache/stats", Handler: d.adminCacheStats, Ephemeral: true},
			{Path: "/admin/cache/invalidate", Handler: d.adminCacheInvalidate, Ephemeral: true},
			{Path: "/admin/usage", Handler: d.adminUsage, Ephemeral: true},
			{Path: "/admin/config/list", Handler: d.adminConfigList, Ephemeral: true},
			{Path: "/admin/config/get", Handler: d.adminConfigGet, Autocomplete: d.adminConfigAutocomplete, Ephemeral: true},
			{Path: "/admin/config/set", Handler: d.adminConfigSet, Autocomplete: d.adminConfigAutocomplete, Ephemeral: true},
			{Path: "/admin/config/delete", Handler: d.adminConfigDelete, Autocomplete: d.adminConfigAutocomplete, Ephemeral: true},
		},
	}
}

// authorizeSystem checks that the caller holds every system admin
// permission in need, with access.SystemCan; a denial is audited and
// answered with what is missing.
func (d *Deps) authorizeSystem(ctx context.Context, req *bot.Request, need ...access.SystemPermission) (store.User, error) {
	u, err := d.findUser(req)
	missing := need
	switch {
	case err == nil:
		var ok bool
		if ok, missing, err = access.SystemCan(ctx, d.Store, u.ID, need...); err != nil {
			return u, err
		} else if ok {
			return u, nil
		}
	case !errors.Is(err, errNoAccount):
		return u, err
	}
	names := make([]string, len(missing))
	for i, p := range missing {
		names[i] = string(p)
	}
	e := auditEntry{action: "permission.denied", resource: "system", resourceID: req.Route, failed: true,
		newValues: map[string]any{"route": req.Route, "missing": names}}
	if u.ID != 0 {
		e.user = &u.ID
	} else {
		e.newValues = map[string]any{"route": req.Route, "missing": names, "discord_id": req.User.ID}
	}
	d.audit(ctx, e)
	return u, bot.UserErrorf("Only pnwbot's system admins may do this: you are missing %s.", strings.Join(names, ", "))
}
