// Package commands holds pnwbot's slash commands: each file defines a command
// beside its handlers, and All lists them for the router and registration.
package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/settings"
	"pnwbot/store"
)

// Deps is what the handlers need.
type Deps struct {
	Store  *store.Store
	Game   *pnw.Client
	Keys   *secrets.Keyring
	Logger *slog.Logger
	// Settings are the run-time settings from app_config; nil reads them
	// from Store.
	Settings *settings.Settings
	// DM sends direct messages: the bot, set once it exists.
	DM Messenger
	// Guilds gives and takes server roles: the bot, set once it exists.
	Guilds Guilds
	// Notices sends the DMs no command waits on (a revoked key's notice)
	// durably, as jobs; nil sends them with DM at once.
	Notices Messenger
	// LinkedRoles keeps users' Discord role connections in step with their
	// nation; nil when the web side is off.
	LinkedRoles LinkedRoles
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WithdrawalCap is the most value a manager may withdraw in 24 hours;
	// zero means the setting bank.withdrawal_cap_per_manager_per_day.
	WithdrawalCap float64

	names remembered
}

// Router returns the routing table of every command, with the caller load
// and the middleware the handlers rely on.
func (d *Deps) Router() *bot.Router {
	r := bot.NewRouter(All(d)...)
	r.LoadCaller(d.loadCaller)
	r.Use(d.databaseDown, d.attributeUsage)
	return r
}

// All returns every command, for registration.
func All(d *Deps) []bot.Command {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Settings == nil {
		d.Settings = settings.New(d.Store, d.Logger)
	}
	return []bot.Command{
		d.linkCommand(),
		d.unlinkCommand(),
		d.meCommand(),
		d.preferencesCommand(),
		d.deleteAccountCommand(),
		d.nationCommand(),
		d.allianceCommand(),
		d.adminCommand(),
	}
}

// Member permissions, as stored in users.permissions.
const (
	PermViewOwnData    = "canViewOwnData"
	PermEditOwnProfile = "canEditOwnProfile"
	PermLinkAPIKey     = "canLinkApiKey"
	PermDeleteAccount  = "canDeleteAccount"
)

// errNoAccount answers commands that need an account the caller never made.
var errNoAccount = bot.UserError("You haven't linked a nation yet. Use /link to link yours.")

// errDatabaseDown answers what needs the database while it is unavailable.
var errDatabaseDown = bot.UserError("The database is unavailable right now, so this cannot be done. Try again shortly.")

// databaseUnavailable is the caller when the database could not be asked:
// commands that need no account still answer, the rest say
// errDatabaseDown.
type databaseUnavailable struct{}

// loadCaller is the router's CallerLoader: the caller's account (one query,
// the only one before the handler), and their reply preference.
func (d *Deps) loadCaller(ctx context.Context, user *discordgo.User) (any, bool, error) {
	u, err := d.Store.UserGetByDiscordID(ctx, user.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case errors.Is(err, store.ErrUnavailable):
		d.Logger.WarnContext(ctx, "database unavailable: serving what needs no account", "user_id", user.ID, "error", err)
		return databaseUnavailable{}, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("load user: %w", err)
	}
	return u, userPreferences(u).Private, nil
}

// databaseDown lets the rest of a request whose caller could not be loaded
// skip the database (its writes are then skipped with a warning), and
// answers a handler that failed for want of the database with
// errDatabaseDown, privately, logged as a warning.
func (d *Deps) databaseDown(next bot.Handler) bot.Handler {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		if _, down := req.Caller.(databaseUnavailable); down {
			ctx = store.WithoutDatabase(ctx)
		}
		resp, err := next(ctx, req)
		if errors.Is(err, store.ErrUnavailable) {
			d.Logger.WarnContext(ctx, "database unavailable", "route", req.Route, "error", err)
			return nil, errDatabaseDown
		}
		return resp, err
	}
}

// attributeUsage attributes the game API requests of the interaction to
// the caller's account, and charges the lookups that spend the bot's own key
// to the caller's daily allowance.
func (d *Deps) attributeUsage(next bot.Handler) bot.Handler {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		var c pnw.Caller
		if req.User != nil {
			c.DiscordID = req.User.ID
			c.Account = d.accountOnce(req)
		}
		if u, ok := req.Caller.(store.User); ok {
			c.UserID = u.ID
		}
		return next(pnw.WithCaller(ctx, c), req)
	}
}

// accountOnce makes the caller's account, at most once in the interaction:
// a lookup that spends the bot's key is logged on its caller's account.
func (d *Deps) accountOnce(req *bot.Request) func(context.Context) (int64, error) {
	var mu sync.Mutex
	var id int64
	return func(ctx context.Context) (int64, error) {
		mu.Lock()
		defer mu.Unlock()
		if id == 0 {
			u, err := d.ensureUser(ctx, req)
			if err != nil {
				return 0, err
			}
			id = u.ID
		}
		return id, nil
	}
}

// findUser returns the caller's account as the interaction began, or
// errNoAccount.
func (d *Deps) findUser(req *bot.Request) (store.User, error) {
	u, ok := req.Caller.(store.User)
	switch {
	case req.Caller == databaseUnavailable{}:
		return u, errDatabaseDown
	case !ok:
		return u, errNoAccount
	}
	return u, nil
}

// ensureUser returns the caller's row, creating it (audited) on first contact.
func (d *Deps) ensureUser(ctx context.Context, req *bot.Request) (store.User, error) {
	u, err := d.findUser(req)
	if !errors.Is(err, errNoAccount) {
		return u, err
	}
	err = d.change(ctx, func(q *store.Queries) (auditEntry, error) {
		u, err = q.UserCreate(ctx, store.UserCreateParams{DiscordID: req.User.ID, DiscordUsername: req.User.Username, KeySalt: secrets.NewSalt()})
		return auditEntry{user: &u.ID, action: "user.create", resource: "user", resourceID: strconv.FormatInt(u.ID, 10)}, err
	})
	if errors.Is(err, store.ErrNotFound) { // created by a concurrent interaction
		if u, err = d.Store.UserGetByDiscordID(ctx, req.User.ID); err != nil {
			return u, fmt.Errorf("load user: %w", err)
		}
		return u, nil
	} else if err != nil {
		return u, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// require checks a member permission on the caller's row; a denial is
// audited and answered with a clear message.
func (d *Deps) require(ctx context.Context, req *bot.Request, u store.User, perm string) error {
	var perms map[string]bool
	if err := json.Unmarshal(u.Permissions, &perms); err != nil {
		return fmt.Errorf("user %d permissions: %w", u.ID, err)
	}
	if perms[perm] {
		return nil
	}
	d.audit(ctx, auditEntry{user: &u.ID, action: "permission.denied", resource: "permission", resourceID: perm, failed: true,
		newValues: map[string]any{"permission": perm, "route": req.Route}})
	return bot.UserErrorf("You are not allowed to do this (missing permission %s). Ask the bot's admins if you think you should be.", perm)
}

// auditEntry is one audit row. Resource "user" and "nation" rows are about
// the acting user itself, and lose their details if the account is deleted.
type auditEntry struct {
	user       *int64
	alliance   *int64
	action     string
	resource   string
	resourceID string
	oldValues  any // secrets redacted by the caller
	newValues  any
	failed     bool // a refusal or denial: nothing changed
}

func (e auditEntry) params() store.AuditLogInsertParams {
	marshal := func(v any) json.RawMessage {
		if v == nil {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // audit values are plain maps built here
		}
		return b
	}
	return store.AuditLogInsertParams{
		UserID: e.user, AllianceID: e.alliance, Action: e.action, ResourceType: e.resource,
		ResourceID: e.resourceID, OldValues: marshal(e.oldValues), NewValues: marshal(e.newValues), Success: !e.failed,
	}
}

// change runs a state change and writes the audit row it returns in one
// transaction, so no change is ever left unaudited.
func (d *Deps) change(ctx context.Context, fn func(q *store.Queries) (auditEntry, error)) error {
	return d.Store.InTx(ctx, func(q *store.Queries) error {
		e, err := fn(q)
		if err != nil {
			return err
		}
		if _, err := q.AuditLogInsert(ctx, e.params()); err != nil {
			return fmt.Errorf("audit %s: %w", e.action, err)
		}
		return nil
	})
}

// audit records a refusal or denial, which changes nothing else. A failure
// is logged: the refusal stands either way.
func (d *Deps) audit(ctx context.Context, e auditEntry) {
	if _, err := d.Store.AuditLogInsert(ctx, e.params()); err != nil {
		d.Logger.ErrorContext(ctx, "audit write failed", "action", e.action, "error", err)
	}
}

// LinkedRoles is the web side's Linked Roles (package site).
type LinkedRoles interface {
	// SyncRoleConnection writes the user's role connection as their
	// nation now is; a user who never connected one has none.
	SyncRoleConnection(ctx context.Context, userID int64) error
	// ForgetRoleConnection empties it before the account goes.
	ForgetRoleConnection(ctx context.Context, userID int64) error
}

// syncRoles updates the user's role connection after a change of nation.
// Discord being slow or down does not undo the change: the periodic
// refresh catches up.
func (d *Deps) syncRoles(ctx context.Context, userID int64) {
	if d.LinkedRoles == nil {
		return
	}
	if err := d.LinkedRoles.SyncRoleConnection(ctx, userID); err != nil {
		d.Logger.WarnContext(ctx, "update Linked Roles connection", "user_id", userID, "error", err)
	}
}

// preferences is the shape of users.preferences.
type preferences struct {
	// Private makes every reply ephemeral.
	Private bool `json:"private"`
}

func userPreferences(u store.User) preferences {
	var p preferences
	_ = json.Unmarshal(u.Preferences, &p) // a CHECK keeps it an object; unknown keys are ignored
	return p
}
