// Package commands holds pnwbot's slash commands: each file defines a command
// beside its handlers, and All lists them for the router and registration.
package commands

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/ia"
	"pnwbot/keys"
	"pnwbot/members"
	"pnwbot/pnw"
	"pnwbot/roles"
	"pnwbot/secrets"
	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/war"
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
	// DM sends direct messages: the bot's REST client.
	DM Messenger
	// Channels posts in server channels (the daily audit report, bank
	// requests): the bot's REST client.
	Channels Channels
	// Notices sends the DMs no command waits on (a revoked key's notice)
	// durably, as jobs; nil sends them with DM at once.
	Notices Messenger
	// LinkedRoles keeps users' Discord role connections in step with their
	// nation (roles.Linked); nil when the web side is off.
	LinkedRoles LinkedRoles
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// The domain the handlers call, required: cmd builds it once
	// (newDomain) and the web side and the jobs get the same objects.
	GameKeys *keys.Keys
	Bank     *bank.Bank
	Roles    *roles.Roles
	IA       *ia.Service
	Members  *members.Members
	// War is the war room (alerts, counters, rooms): cmd builds it, with
	// the game's stream, and runs its poll; the one New builds only
	// answers the commands.
	War *war.Service
	// Access writes who may do what (managers, system admins, member
	// permissions).
	Access access.Changes
	// AuditLog is what the handlers audit themselves (denials, refusals,
	// /admin config) and the audit pages they read.
	AuditLog audit.Log

	names   *remembered
	notices bot.Notifier
}

// New completes d once, before anything uses it: the clock, a logger and
// the settings read from Store when d has none. Router and All only read
// what it built.
func New(d Deps) *Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Settings == nil {
		d.Settings = settings.New(d.Store, settings.Options{Logger: d.Logger})
	}
	d.names = &remembered{}
	notices := d.Notices // durable, retried
	if notices == nil {
		notices = d.DM
	}
	d.notices = bot.Notifier{Messenger: notices, Logger: d.Logger}
	return &d
}

// Router returns the routing table of every command.
func (d *Deps) Router() *bot.Router { return bot.NewRouter(All(d)...) }

// All returns every command, for registration, of a Deps made by New.
func All(d *Deps) []bot.Command {
	return []bot.Command{
		d.linkCommand(),
		d.unlinkCommand(),
		d.meCommand(),
		d.preferencesCommand(),
		d.deleteAccountCommand(),
		d.nationCommand(),
		d.allianceCommand(),
		d.bankCommand(),
		d.adminCommand(),
		d.warCommand(),
		d.iaCommand(),
	}
}

// errNoAccount answers commands that need an account the caller never made.
var errNoAccount = bot.UserError("You haven't linked a nation yet. Use /link to link yours.")

// errDatabaseDown answers what needs the database while it is unavailable.
var errDatabaseDown = bot.UserError("The database is unavailable right now, so this cannot be done. Try again shortly.")

// findUser returns the caller's account as the interaction began, or
// errNoAccount.
func (d *Deps) findUser(req *call) (store.User, error) {
	switch {
	case req.Caller.DatabaseDown:
		return store.User{}, errDatabaseDown
	case req.Caller.Account == nil:
		return store.User{}, errNoAccount
	}
	return *req.Caller.Account, nil
}

// ensureUser returns the caller's row, creating it (audited) on first contact.
func (d *Deps) ensureUser(ctx context.Context, req *call) (store.User, error) {
	u, err := d.findUser(req)
	if !errors.Is(err, errNoAccount) {
		return u, err
	}
	return d.Access.CreateAccount(ctx, req.User.ID, req.User.Username)
}

// audit records a refusal or denial, which changes nothing else
// (audit.Log.Record).
func (d *Deps) audit(ctx context.Context, e audit.Entry) { d.AuditLog.Record(ctx, e) }

// LinkedRoles keeps role connections in step (roles.Linked, which writes
// with the web side's grants).
type LinkedRoles interface {
	// SyncRoleConnection writes the user's role connection as their
	// nation now is; a user who never connected one has none.
	SyncRoleConnection(ctx context.Context, userID int64) error
	// ForgetRoleConnection empties it before the account goes.
	ForgetRoleConnection(ctx context.Context, userID int64) error
	// SyncAlliance rewrites the connections whose alliance membership
	// differs from members, the alliance's list as the game gives it, and
	// returns how many it wrote.
	SyncAlliance(ctx context.Context, allianceID int64, members []pnw.Nation) (int, error)
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
