package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/keys"
	"pnwbot/store"
)

// managerOptions are the options of /alliance managers: each subcommand
// uses some of them.
type managerOptions struct {
	User       *discordgo.User `discord:"user"`
	Role       string          `discord:"role"`
	Permission string          `discord:"permission"`
	Value      bool            `discord:"value"`
}

func (d *Deps) allianceManagersList(ctx context.Context, req *call) (*bot.Response, error) {
	a := req.Alliance
	rows, err := d.Store.AllianceManagerListByAlliance(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("managers: %w", err)
	}
	lines, err := managerLines(rows)
	if err != nil {
		return nil, err
	}
	e := &discordgo.MessageEmbed{Title: truncate("Managers of "+a.Name, 256), Color: colorDefault,
		Description: truncate(strings.Join(lines, "\n"), 4096),
		Footer:      &discordgo.MessageEmbedFooter{Text: "viewer: members, wars, trades · manager: + bank, audit log · admin: everything"}}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}, nil
}

// managerLines shows each manager: who, role, overrides, key status.
func managerLines(rows []store.AllianceManagerListByAllianceRow) ([]string, error) {
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		m := r.AllianceManager
		overrides, err := access.Overrides(m.Permissions)
		if err != nil {
			return nil, err
		}
		line := fmt.Sprintf("<@%s> · %s", r.DiscordID, capitalize(m.Role))
		if o := strings.Join(access.Changed(m.Role, overrides), " "); o != "" {
			line += " · " + o
		}
		lines = append(lines, line+" · key: "+keys.ManagerState(m).String())
	}
	return lines, nil
}

func (d *Deps) allianceManagersAdd(ctx context.Context, req *call) (*bot.Response, error) {
	return d.changeManager(ctx, req, "alliance.manager_add", func(o managerOptions, before *access.Standing) (*access.Standing, error) {
		if before != nil {
			return nil, bot.UserErrorf("<@%s> is already a %s here: use /alliance managers role to change it.", o.User.ID, before.Role)
		}
		return &access.Standing{Role: o.Role, Overrides: map[access.Permission]bool{}}, nil
	}, "is now a %[3]s of %[2]s.")
}

func (d *Deps) allianceManagersRemove(ctx context.Context, req *call) (*bot.Response, error) {
	return d.changeManager(ctx, req, "alliance.manager_remove", func(o managerOptions, before *access.Standing) (*access.Standing, error) {
		if before == nil {
			return nil, errNotManager(o.User.ID)
		}
		return nil, nil
	}, "no longer manages %[2]s.")
}

func (d *Deps) allianceManagersRole(ctx context.Context, req *call) (*bot.Response, error) {
	return d.changeManager(ctx, req, "alliance.manager_role", func(o managerOptions, before *access.Standing) (*access.Standing, error) {
		if before == nil {
			return nil, errNotManager(o.User.ID)
		}
		return &access.Standing{Role: o.Role, Overrides: before.Overrides}, nil
	}, "is now a %[3]s of %[2]s.")
}

func (d *Deps) allianceManagersPermission(ctx context.Context, req *call) (*bot.Response, error) {
	return d.changeManager(ctx, req, "alliance.manager_permission", func(o managerOptions, before *access.Standing) (*access.Standing, error) {
		if before == nil {
			return nil, errNotManager(o.User.ID)
		}
		p := access.Permission(o.Permission)
		if !p.Valid() {
			return nil, bot.UserErrorf("%q is not an alliance permission.", o.Permission)
		}
		after := &access.Standing{Role: before.Role, Overrides: maps.Clone(before.Overrides)}
		// An override equal to the role's preset is no override.
		if access.Preset(before.Role)[p] == o.Value {
			delete(after.Overrides, p)
		} else {
			after.Overrides[p] = o.Value
		}
		return after, nil
	}, "now has, as a %[3]s of %[2]s: %[4]s.")
}

func errNotManager(discordID string) error {
	return bot.UserErrorf("<@%s> is not a manager here.", discordID)
}

// changeManager applies one change to a manager of this server's alliance
// (access.Changes.ChangeManager).
func (d *Deps) changeManager(ctx context.Context, req *call, action string,
	next func(managerOptions, *access.Standing) (*access.Standing, error), done string) (*bot.Response, error) {
	var o managerOptions
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	actor := req.Account
	a := req.Alliance
	if o.User == nil {
		return nil, bot.UserError("Pick a Discord user.")
	}
	if o.Role != "" && !slices.Contains(access.Roles, o.Role) {
		return nil, bot.UserErrorf("%q is not a role: viewer, manager or admin.", o.Role)
	}
	target, err := d.Store.UserGetByDiscordID(ctx, o.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, bot.UserErrorf("<@%s> has no pnwbot account yet: ask them to link their nation with /link first.", o.User.ID)
	} else if err != nil {
		return nil, fmt.Errorf("target user: %w", err)
	}
	after, err := d.Access.ChangeManager(ctx, actor.ID, a, target.ID, action, func(before *access.Standing) (*access.Standing, error) {
		return next(o, before)
	})
	var denied *access.Denied
	switch {
	case errors.As(err, &denied):
		return nil, d.deny(ctx, req, &actor, denied)
	case errors.Is(err, access.ErrLastAdmin): // audited by ChangeManager
		return nil, bot.UserErrorf("%s must keep at least one admin who can manage its settings: make someone else admin first. Nothing was changed.", a.Name)
	case err != nil:
		return nil, err
	}
	role, perms := "", ""
	if after != nil {
		role, perms = after.Role, strings.Join(access.Names(after.Perms().List()), ", ")
	}
	return &bot.Response{Content: fmt.Sprintf("<@%[1]s> "+done, o.User.ID, a.Name, role, perms)}, nil
}
