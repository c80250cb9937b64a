package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
)

// route is a command route with what its caller must hold. Serving it
// loads the caller once, checks Need (a denial audited and answered with
// what is missing) and only then runs Handler, so a handler starts from
// an authorized call:
//
//	{Path: "/alliance/bank", Need: access.Alliance(access.ViewBank), Handler: d.allianceBank, Ephemeral: true}
//	func (d *Deps) allianceBank(ctx context.Context, req *call) (*bot.Response, error) {
//		bank, err := d.Bank.Holdings(ctx, req.Alliance) // req.Account is the caller's account
type route struct {
	Path string
	// Need is what the caller must hold; the zero Need lets anyone in.
	Need access.Need
	// OwnerOnly lets only the user named by the custom_id's {owner} press
	// it (a page turn), checked before Need.
	OwnerOnly bool
	// Discord is the Discord permission (a discordgo.Permission* bit) the
	// caller must hold in the server, as the interaction's
	// member.permissions says, for what acts on Discord's side (roles, the
	// server's binding); checked after Need.
	Discord int64
	Handler handler
	// Autocomplete answers while the user types; it runs without Need.
	Autocomplete handler
	Ephemeral    bool
}

// handler answers one interaction whose caller holds what its route needs.
type handler func(ctx context.Context, req *call) (*bot.Response, error)

// call is one interaction as a handler sees it.
type call struct {
	*bot.Request
	// Caller is the invoker as the interaction began.
	Caller Caller
	// Account is the caller's account on routes whose Need asks for one.
	Account store.User
	// Alliance is the server's alliance on routes that need an alliance
	// permission.
	Alliance store.Alliance
	// Perms is what the caller holds, loaded once for the route's Need.
	Perms access.Perms
	// manager is the caller's active manager row in Alliance (nil: none
	// there) when managerRead: read with Alliance, for the permission
	// check that follows.
	manager     *store.AllianceManager
	managerRead bool
}

// Caller is the invoker's account as the interaction began, with their
// roles, read in one query.
type Caller struct {
	// Account is nil when they have none, or when it could not be read.
	Account *store.User
	// Prefs are the account's preferences, decoded.
	Prefs access.Preferences
	// Admin is their system admin grant (Role is the level); nil when they
	// are none.
	Admin *access.Grant
	// Managed are their active alliance manager roles, by alliance name.
	Managed []managed
	// DatabaseDown: the database could not be asked. Commands that need no
	// account still answer; the rest say errDatabaseDown.
	DatabaseDown bool
}

// managed is one of the caller's alliance manager roles.
type managed struct {
	Role, AllianceName string
	PnwAllianceID      int64
}

// routes turns a command's routes into the router's.
func (d *Deps) routes(rs ...route) []bot.Route {
	out := make([]bot.Route, len(rs))
	for i, r := range rs {
		out[i] = bot.Route{Path: r.Path, Ephemeral: r.Ephemeral}
		if r.Handler != nil {
			out[i].Handler = d.serve(r, r.Handler, true)
		}
		if r.Autocomplete != nil {
			out[i].Autocomplete = d.serve(r, r.Autocomplete, false)
		}
	}
	return out
}

// serve loads the caller (one query, the only one before the check),
// applies their reply preference, attributes the game API requests to
// them, checks the route's Need when guard is set, and runs h. A handler
// that failed for want of the database answers errDatabaseDown.
func (d *Deps) serve(r route, h handler, guard bool) bot.Handler {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		c := &call{Request: req}
		var err error
		if c.Caller, err = d.loadCaller(ctx, req); err != nil {
			return nil, fmt.Errorf("load caller: %w", err)
		}
		if c.Caller.DatabaseDown {
			// The rest of the request skips the database (its writes with a warning).
			ctx = store.WithoutDatabase(ctx)
		}
		ctx = pnw.WithCaller(ctx, d.gameCaller(c))
		if guard && r.OwnerOnly && req.Var("owner") != req.User.ID {
			err = bot.UserError("Only the person who ran this command can turn its pages: run it yourself to get your own.")
		} else if guard {
			err = d.authorize(ctx, c, r.Need)
		}
		if err == nil && guard && r.Discord != 0 {
			err = d.requireDiscord(ctx, c, r.Discord)
		}
		var resp *bot.Response
		if err == nil {
			resp, err = h(ctx, c)
		}
		if errors.Is(err, pnw.ErrNoAccount) {
			resp, err = d.withAccount(ctx, c, h)
		}
		if errors.Is(err, store.ErrUnavailable) {
			d.Logger.WarnContext(ctx, "database unavailable", "route", req.Route, "error", err)
			return nil, errDatabaseDown
		}
		return resp, err
	}
}

// loadCaller reads the caller's account and roles and applies their
// preference for private replies.
func (d *Deps) loadCaller(ctx context.Context, req *bot.Request) (Caller, error) {
	row, err := d.Store.UserGetCaller(ctx, req.User.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Caller{}, nil
	case errors.Is(err, store.ErrUnavailable):
		d.Logger.WarnContext(ctx, "database unavailable: serving what needs no account", "user_id", req.User.ID, "error", err)
		return Caller{DatabaseDown: true}, nil
	case err != nil:
		return Caller{}, fmt.Errorf("load user: %w", err)
	}
	c := callerOf(row)
	if c.Prefs.Private {
		req.PreferPrivate()
	}
	return c, nil
}

// callerOf is the Caller of an account read with UserGetCaller.
func callerOf(row store.UserGetCallerRow) Caller {
	c := Caller{Account: &row.User, Prefs: access.PreferencesOf(row.User.Preferences)}
	if row.AdminLevel != nil {
		c.Admin = &access.Grant{Role: *row.AdminLevel, Overrides: row.AdminPermissions}
	}
	for i, role := range row.ManagerRoles {
		c.Managed = append(c.Managed, managed{Role: role, AllianceName: row.ManagedNames[i], PnwAllianceID: row.ManagedPnwIds[i]})
	}
	return c
}

// callerDB answers access's reads of the caller's own system admin row
// from what loadCaller read, and of their manager row in the server's
// alliance from what callerAlliance read; every other read goes to the
// store.
type callerDB struct {
	*store.Store
	c *call
}

func (db callerDB) SystemAdminGetByUser(ctx context.Context, userID int64) (store.SystemAdmin, error) {
	c := db.c.Caller
	switch {
	case c.Account == nil || c.Account.ID != userID:
		return db.Store.SystemAdminGetByUser(ctx, userID)
	case c.Admin == nil:
		return store.SystemAdmin{}, store.ErrNotFound
	}
	return store.SystemAdmin{UserID: userID, Level: c.Admin.Role, Permissions: c.Admin.Overrides}, nil
}

func (db callerDB) AllianceManagerGet(ctx context.Context, arg store.AllianceManagerGetParams) (store.AllianceManager, error) {
	c := db.c
	switch {
	case !c.managerRead || c.Caller.Account == nil || c.Caller.Account.ID != arg.UserID || c.Alliance.ID != arg.AllianceID:
		return db.Store.AllianceManagerGet(ctx, arg)
	case c.manager == nil:
		return store.AllianceManager{}, store.ErrNotFound
	}
	return *c.manager, nil
}

// gameCaller attributes the game API requests of the interaction to the
// caller's account, and charges the lookups that spend the bot's own key
// to the caller's daily allowance. Such a lookup by a caller without an
// account stops before it is sent (pnw.ErrNoAccount): see withAccount.
func (d *Deps) gameCaller(c *call) pnw.Caller {
	gc := pnw.Caller{DiscordID: c.User.ID, NeedsAccount: !c.Caller.DatabaseDown}
	if c.Caller.Account != nil {
		gc.UserID = c.Caller.Account.ID
	}
	return gc
}

// withAccount makes the caller's account, since a lookup of h would spend
// the bot's key and that is logged on the caller's account, and runs h
// again with it. Without the database the lookup goes on, logged without
// an account.
func (d *Deps) withAccount(ctx context.Context, c *call, h handler) (*bot.Response, error) {
	gc := pnw.Caller{DiscordID: c.User.ID}
	if u, err := d.ensureUser(ctx, c); err != nil {
		d.Logger.WarnContext(ctx, "caller account unavailable, logging the lookup without it", "user_id", c.User.ID, "error", err)
	} else {
		c.Caller.Account, gc.UserID = &u, u.ID
	}
	return h(pnw.WithCaller(ctx, gc), c)
}

// authorize decides n for the call, filling what it found: the account,
// the server's alliance, the permissions. A denial is audited. Routes
// declare their Need and serve calls this; a handler calls it only where
// its Need depends on what it was asked (an account deleted meanwhile).
func (d *Deps) authorize(ctx context.Context, c *call, n access.Need) error {
	if !n.Account {
		return nil
	}
	if len(n.Alliance) > 0 {
		if err := d.callerAlliance(ctx, c); err != nil {
			return err
		}
	}
	u, err := d.findUser(c)
	switch {
	case errors.Is(err, errNoAccount) && (len(n.Alliance) > 0 || len(n.System) > 0):
		// Refused as one who holds nothing, and audited so.
		return d.deny(ctx, c, nil, access.Check(n, access.Perms{}))
	case err != nil:
		return err
	}
	c.Account = u
	return d.allow(ctx, c, u, n)
}

// callerAlliance reads the server's alliance into c and, when the caller
// has an account, their manager row there in the same query: an alliance
// permission check then costs one query, not two.
func (d *Deps) callerAlliance(ctx context.Context, c *call) error {
	u := c.Caller.Account
	if u == nil || c.GuildID == "" {
		var err error
		c.Alliance, err = d.serverAlliance(ctx, c.Request)
		return err
	}
	row, err := d.Store.AllianceGetByGuildForUser(ctx, store.AllianceGetByGuildForUserParams{UserID: u.ID, DiscordGuildID: &c.GuildID})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNoAlliance
	case err != nil:
		return fmt.Errorf("server alliance: %w", err)
	}
	c.Alliance, c.managerRead = row.Alliance, true
	if row.ManagerID != nil {
		c.manager = &store.AllianceManager{ID: *row.ManagerID, UserID: u.ID, AllianceID: row.Alliance.ID, Role: *row.ManagerRole,
			Permissions: row.ManagerPermissions, ManagerApiKey: row.ManagerApiKey, KeyPermissions: row.ManagerKeyPermissions,
			KeyVerifiedAt: row.ManagerKeyVerifiedAt, KeyRevokedAt: row.ManagerKeyRevokedAt, IsActive: true,
			AssignedBy: row.ManagerAssignedBy, CreatedAt: *row.ManagerCreatedAt, UpdatedAt: *row.ManagerUpdatedAt}
	}
	return nil
}

// allow decides n for u, the caller's account: the handlers whose Need
// depends on the account they found or made call it directly.
func (d *Deps) allow(ctx context.Context, c *call, u store.User, n access.Need) error {
	var err error
	if c.Perms, err = access.Load(ctx, callerDB{d.Store, c}, u.ID, u.Permissions, c.Alliance.ID, n); err != nil {
		return err
	}
	if err := access.Check(n, c.Perms); err != nil {
		return d.deny(ctx, c, &u, err)
	}
	return nil
}

// deny audits a refused request (err an *access.Denied) as today's
// permission.denied rows, and answers with what is missing.
func (d *Deps) deny(ctx context.Context, c *call, u *store.User, err error) error {
	var denied *access.Denied
	if !errors.As(err, &denied) {
		return err
	}
	var userID *int64
	values := map[string]any{"route": c.Route, "missing": denied.Missing}
	if u != nil {
		userID = &u.ID
	} else {
		// No account to name: the Discord user is who was refused.
		values["discord_id"] = c.User.ID
	}
	switch n := denied.Need; {
	case len(n.Alliance) > 0:
		a := c.Alliance
		d.audit(ctx, audit.Entry{User: userID, Alliance: &a.ID, Action: "permission.denied", Resource: "alliance",
			ResourceID: strconv.FormatInt(a.PnwAllianceID, 10), Failed: true, New: values})
		return bot.UserErrorf("You may not do this in %s: you are missing %s. Its admins can grant it (/alliance managers list shows them).",
			a.Name, denied.List())
	case len(n.System) > 0:
		d.audit(ctx, audit.Entry{User: userID, Action: "permission.denied", Resource: "system", ResourceID: c.Route, Failed: true, New: values})
		return bot.UserErrorf("Only pnwbot's system admins may do this: you are missing %s.", denied.List())
	default:
		perm := denied.Missing[0]
		d.audit(ctx, audit.Entry{User: userID, Action: "permission.denied", Resource: "permission", ResourceID: perm, Failed: true,
			New: map[string]any{"permission": perm, "route": c.Route}})
		return bot.UserErrorf("You are not allowed to do this (missing permission %s). Ask the bot's admins if you think you should be.", perm)
	}
}

// requireDiscord checks that the caller holds perm in this server: what the
// bot does on Discord's side needs the power Discord would ask of the
// caller. A refusal is audited like any denial.
func (d *Deps) requireDiscord(ctx context.Context, c *call, perm int64) error {
	if m := c.Member; m != nil && (m.Permissions&discordgo.PermissionAdministrator != 0 || m.Permissions&perm == perm) {
		return nil
	}
	name := strings.Join(powers(perm), ", ")
	e := audit.Entry{Action: "permission.denied", Resource: "guild", ResourceID: c.GuildID, Failed: true,
		New: map[string]any{"route": c.Route, "missing": []string{"discord:" + name}, "discord_id": c.User.ID}}
	if c.Caller.Account != nil {
		e.User = &c.Caller.Account.ID
	}
	if c.Alliance.ID != 0 {
		e.Alliance = &c.Alliance.ID
	}
	d.audit(ctx, e)
	return bot.UserErrorf("This needs Discord's %s permission in this server, which you do not have. Nothing was changed.", name)
}
