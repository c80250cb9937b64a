package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/store"
)

// adminOptions are the options of /admin admins: each subcommand uses
// some of them.
type adminOptions struct {
	User       *discordgo.User `discord:"user"`
	Level      string          `discord:"level"`
	Permission string          `discord:"permission"`
	Value      bool            `discord:"value"`
}

func (d *Deps) adminAdminsList(ctx context.Context, req *call) (*bot.Response, error) {
	rows, err := d.Store.SystemAdminList(ctx)
	if err != nil {
		return nil, fmt.Errorf("system admins: %w", err)
	}
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		a := r.SystemAdmin
		line := fmt.Sprintf("<@%s> · %s", r.DiscordID, levelName(a.Level))
		if a.Listed {
			line += " · from SUPER_ADMIN_DISCORD_IDS"
			if a.GrantedLevel != nil {
				line += " (granted " + levelName(*a.GrantedLevel) + " too)"
			}
		}
		overrides, err := access.SystemOverrides(a.Permissions)
		if err != nil {
			return nil, err
		}
		if o := strings.Join(access.SystemChanged(a.Level, overrides), " "); o != "" {
			line += " · " + o
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = append(lines, "None: set SUPER_ADMIN_DISCORD_IDS and restart pnwbot.")
	}
	e := &discordgo.MessageEmbed{Title: "System admins", Color: colorDefault, Description: truncate(strings.Join(lines, "\n"), 4096),
		Footer: &discordgo.MessageEmbedFooter{Text: "admin: every permission but canManageAdmins · super admin: every permission"}}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}, nil
}

func levelName(level string) string { return capitalize(strings.ReplaceAll(level, "_", " ")) }

func (d *Deps) adminAdminsGrant(ctx context.Context, req *call) (*bot.Response, error) {
	return d.changeAdmin(ctx, req, "admin.grant", func(o adminOptions, before *store.SystemAdmin) (*store.SystemAdminUpsertParams, error) {
		if !slices.Contains(access.Levels, o.Level) {
			return nil, bot.UserErrorf("%q is not a level: admin or super_admin.", o.Level)
		}
		if before == nil {
			return &store.SystemAdminUpsertParams{Level: o.Level, Permissions: []byte(`{}`)}, nil
		}
		if before.Listed && before.GrantedLevel != nil && *before.GrantedLevel == o.Level || !before.Listed && before.Level == o.Level {
			return nil, bot.UserErrorf("<@%s> is already %s. Nothing was changed.", o.User.ID, levelName(o.Level))
		}
		after := &store.SystemAdminUpsertParams{Level: o.Level, Permissions: before.Permissions}
		if before.Listed {
			// The list keeps them super admin; the grant is what stays after it.
			after.Level, after.Listed, after.GrantedLevel = access.LevelSuperAdmin, true, &o.Level
		}
		return after, nil
	}, func(o adminOptions, after *store.SystemAdminUpsertParams) string {
		if after.Listed {
			return fmt.Sprintf("<@%s> is granted %s: they stay super admin while SUPER_ADMIN_DISCORD_IDS lists them.", o.User.ID, levelName(o.Level))
		}
		return fmt.Sprintf("<@%s> is now %s.", o.User.ID, levelName(o.Level))
	})
}

func (d *Deps) adminAdminsRevoke(ctx context.Context, req *call) (*bot.Response, error) {
	return d.changeAdmin(ctx, req, "admin.revoke", func(o adminOptions, before *store.SystemAdmin) (*store.SystemAdminUpsertParams, error) {
		switch {
		case before == nil:
			return nil, errNotAdmin(o.User.ID)
		case before.Listed && before.GrantedLevel == nil:
			return nil, bot.UserErrorf("<@%s> is super admin because SUPER_ADMIN_DISCORD_IDS lists them: take them off the list and restart pnwbot. Nothing was changed.", o.User.ID)
		case before.Listed:
			return &store.SystemAdminUpsertParams{Level: before.Level, Permissions: before.Permissions, Listed: true}, nil
		}
		return nil, nil
	}, func(o adminOptions, after *store.SystemAdminUpsertParams) string {
		if after != nil {
			return fmt.Sprintf("<@%s> lost what commands granted them; they stay super admin while SUPER_ADMIN_DISCORD_IDS lists them.", o.User.ID)
		}
		return fmt.Sprintf("<@%s> is no longer a system admin.", o.User.ID)
	})
}

func (d *Deps) adminAdminsPermission(ctx context.Context, req *call) (*bot.Response, error) {
	return d.changeAdmin(ctx, req, "admin.permission", func(o adminOptions, before *store.SystemAdmin) (*store.SystemAdminUpsertParams, error) {
		p := access.SystemPermission(o.Permission)
		switch {
		case before == nil:
			return nil, errNotAdmin(o.User.ID)
		case !p.Valid():
			return nil, bot.UserErrorf("%q is not a system admin permission.", o.Permission)
		case before.Level != access.LevelAdmin:
			return nil, bot.UserErrorf("<@%s> is super admin and holds every permission; permissions refine admins only. Nothing was changed.", o.User.ID)
		}
		overrides, err := access.SystemOverrides(before.Permissions)
		if err != nil {
			return nil, err
		}
		// An override equal to the level's preset is no override.
		if access.SystemPreset(before.Level)[p] == o.Value {
			delete(overrides, p)
		} else {
			overrides[p] = o.Value
		}
		raw, err := json.Marshal(overrides)
		return &store.SystemAdminUpsertParams{Level: before.Level, Permissions: raw}, err
	}, func(o adminOptions, after *store.SystemAdminUpsertParams) string {
		held, _ := access.SystemOverrides(after.Permissions)
		return fmt.Sprintf("<@%s> now holds: %s.", o.User.ID, strings.Join(access.Names(access.SystemEffective(after.Level, held).List()), ", "))
	})
}

func errNotAdmin(discordID string) error {
	return bot.UserErrorf("<@%s> is not a system admin. Nothing was changed.", discordID)
}

// changeAdmin applies one change to a system admin
// (access.Changes.ChangeAdmin); next returns the row after the change, nil
// to delete it.
func (d *Deps) changeAdmin(ctx context.Context, req *call, action string,
	next func(adminOptions, *store.SystemAdmin) (*store.SystemAdminUpsertParams, error),
	done func(adminOptions, *store.SystemAdminUpsertParams) string) (*bot.Response, error) {
	var o adminOptions
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	actor := req.Account
	if o.User == nil {
		return nil, bot.UserError("Pick a Discord user.")
	}
	after, target, err := d.Access.ChangeAdmin(ctx, actor.ID, access.AdminTarget{DiscordID: o.User.ID, Username: o.User.Username}, action,
		func(before *store.SystemAdmin) (*store.SystemAdminUpsertParams, error) {
			return next(o, before)
		})
	var denied *access.Denied
	var r *access.AdminRefused
	switch {
	case errors.As(err, &denied):
		d.audit(ctx, audit.Entry{User: &actor.ID, Action: "permission.denied", Resource: "system", ResourceID: req.Route, Failed: true,
			New: map[string]any{"route": req.Route, "missing": denied.Missing, "target": target}})
		return nil, bot.UserErrorf("You may not change this admin: you are missing %s. Nothing was changed.", denied.List())
	case errors.As(err, &r): // audited by ChangeAdmin
		return nil, bot.UserErrorf("Refused: %s. Nothing was changed.", r.Reason)
	case err != nil:
		return nil, err
	}
	return &bot.Response{Content: done(o, after)}, nil
}
