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
			},
		},
		Routes: []bot.Route{
			{Path: "/admin/admins/list", Handler: d.adminAdminsList, Ephemeral: true},
			{Path: "/admin/admins/grant", Handler: d.adminAdminsGrant, Ephemeral: true},
			{Path: "/admin/admins/revoke", Handler: d.adminAdminsRevoke, Ephemeral: true},
			{Path: "/admin/admins/permission", Handler: d.adminAdminsPermission, Ephemeral: true},
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
