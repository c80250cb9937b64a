package commands

import (
	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
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
	var (
		needAdmins    = access.System(access.ManageAdmins)
		needUsers     = access.System(access.ManageUsers)
		needAlliances = access.System(access.ManageAlliances)
		needAudit     = access.System(access.ViewAuditLogs)
		needSystem    = access.System(access.ManageSystem)
	)
	// Shown in servers only to those who may manage them, as a convenience:
	// the bot still checks system_admins on every call.
	manageServer := int64(discordgo.PermissionManageGuild)
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:                     "admin",
			Description:              "System management, for pnwbot's admins",
			DefaultMemberPermissions: &manageServer,
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
		Routes: d.routes(
			route{Path: "/admin/admins/list", Need: needAdmins, Handler: d.adminAdminsList, Ephemeral: true},
			route{Path: "/admin/admins/grant", Need: needAdmins, Handler: d.adminAdminsGrant, Ephemeral: true},
			route{Path: "/admin/admins/revoke", Need: needAdmins, Handler: d.adminAdminsRevoke, Ephemeral: true},
			route{Path: "/admin/admins/permission", Need: needAdmins, Handler: d.adminAdminsPermission, Ephemeral: true},
			route{Path: "/admin/user", Need: needUsers, Handler: d.adminUser, Ephemeral: true},
			route{Path: "/admin/user-permission", Need: needUsers, Handler: d.adminUserPermission, Ephemeral: true},
			route{Path: "/admin/alliances", Need: needAlliances, Handler: d.adminAlliances, Ephemeral: true},
			route{Path: routeAdminAlliancesPage, Need: needAlliances, OwnerOnly: true, Handler: d.adminAlliancesTurn, Ephemeral: true},
			route{Path: "/admin/alliance", Need: needAlliances, Handler: d.adminAlliance, Autocomplete: d.adminAllianceAutocomplete, Ephemeral: true},
			route{Path: "/admin/assign", Need: needAlliances, Handler: d.adminAssign, Autocomplete: d.adminAllianceAutocomplete, Ephemeral: true},
			route{Path: "/admin/unassign", Need: needAlliances, Handler: d.adminUnassign, Autocomplete: d.adminAllianceAutocomplete, Ephemeral: true},
			route{Path: "/admin/audit", Need: needAudit, Handler: d.adminAudit, Autocomplete: d.adminAllianceAutocomplete, Ephemeral: true},
			route{Path: routeAdminAuditPage, Need: needAudit, OwnerOnly: true, Handler: d.adminAuditTurn, Ephemeral: true},
			route{Path: "/admin/cache/stats", Need: needSystem, Handler: d.adminCacheStats, Ephemeral: true},
			route{Path: "/admin/cache/invalidate", Need: needSystem, Handler: d.adminCacheInvalidate, Ephemeral: true},
			route{Path: "/admin/usage", Need: needSystem, Handler: d.adminUsage, Ephemeral: true},
			route{Path: "/admin/config/list", Need: needSystem, Handler: d.adminConfigList, Ephemeral: true},
			route{Path: "/admin/config/get", Need: needSystem, Handler: d.adminConfigGet, Autocomplete: d.adminConfigAutocomplete, Ephemeral: true},
			route{Path: "/admin/config/set", Need: needSystem, Handler: d.adminConfigSet, Autocomplete: d.adminConfigAutocomplete, Ephemeral: true},
			route{Path: "/admin/config/delete", Need: needSystem, Handler: d.adminConfigDelete, Autocomplete: d.adminConfigAutocomplete, Ephemeral: true},
		),
	}
}
