package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/store"
)

var (
	errNotInServer = bot.UserError("Use this command in your alliance's Discord server.")
	errNoAlliance  = bot.UserError("This server has no alliance yet: the alliance's leader or heir can bind it with /alliance setup.")
)

// serverAlliance is the alliance bound to the server the command came from.
func (d *Deps) serverAlliance(ctx context.Context, req *bot.Request) (store.Alliance, error) {
	if req.GuildID == "" {
		return store.Alliance{}, errNotInServer
	}
	a, err := d.Store.AllianceGetByGuild(ctx, &req.GuildID)
	if errors.Is(err, store.ErrNotFound) {
		return a, errNoAlliance
	} else if err != nil {
		return a, fmt.Errorf("server alliance: %w", err)
	}
	return a, nil
}

// authorize checks that the caller holds every permission in need in the
// alliance of this server, with access.Can; a denial is audited and
// answered with what is missing. The caller's account is nil when it has
// none (then it holds nothing).
func (d *Deps) authorize(ctx context.Context, req *bot.Request, need ...access.Permission) (*store.User, store.Alliance, error) {
	a, err := d.serverAlliance(ctx, req)
	if err != nil {
		return nil, a, err
	}
	var u *store.User
	var missing []access.Permission
	if found, err := d.findUser(req); err == nil {
		u = &found
		var ok bool
		if ok, missing, err = access.Can(ctx, d.Store, u.ID, a.ID, need...); err != nil {
			return nil, a, err
		} else if ok {
			return u, a, nil
		}
	} else if errors.Is(err, errNoAccount) {
		missing = need
	} else {
		return nil, a, err
	}
	return nil, a, d.deny(ctx, req, u, a, missing)
}

// deny audits a refused alliance action and answers with what is missing.
func (d *Deps) deny(ctx context.Context, req *bot.Request, u *store.User, a store.Alliance, missing []access.Permission) error {
	e := auditEntry{alliance: &a.ID, action: "permission.denied", resource: "alliance", resourceID: strconv.FormatInt(a.PnwAllianceID, 10), failed: true,
		newValues: map[string]any{"route": req.Route, "missing": missing}}
	if u != nil {
		e.user = &u.ID
	} else {
		// No account to name: the Discord user is who was refused.
		e.newValues = map[string]any{"route": req.Route, "missing": missing, "discord_id": req.User.ID}
	}
	d.audit(ctx, e)
	return bot.UserErrorf("You may not do this in %s: you are missing %s. Its admins can grant it (/alliance managers list shows them).",
		a.Name, permissionList(missing))
}

func permissionList(ps []access.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
