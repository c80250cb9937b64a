// Package keys owns the stored game keys: members' nation keys
// (users.pnw_api_key) and managers' alliance keys
// (alliance_managers.manager_api_key). It opens them, says where each
// stands (one Status, one wording), re-checks them with the game, marks
// the ones the game refuses, and picks the alliance keys a read or a
// manager's own action uses. It knows nothing of Discord or HTTP.
package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

// Notifier tells a user something in a direct message that nobody waits
// on (a refused key's notice). A failure is the Notifier's to log.
type Notifier interface {
	Notify(ctx context.Context, discordID, text string)
}

// Options are what Keys works with.
type Options struct {
	Store  *store.Store
	Game   *pnw.Client
	Ring   *secrets.Keyring
	Notify Notifier // nil: nobody is told
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
}

// Keys works on the stored keys.
type Keys struct {
	store  *store.Store
	game   *pnw.Client
	ring   *secrets.Keyring
	audit  audit.Log
	notify Notifier
	logger *slog.Logger
	now    func() time.Time
}

// New returns Keys working with o.
func New(o Options) *Keys {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Keys{store: o.Store, game: o.Game, ring: o.Ring, audit: audit.Log{Store: o.Store, Logger: o.Logger},
		notify: o.Notify, logger: o.Logger, now: o.Now}
}

// Opens reports whether a stored key (none counts as opening) opens with
// the bot's master keys, and logs, without the key, one that does not: it
// was sealed under another master key, such as by a process that still
// ran with the old ENCRYPTION_KEY after a rotation, and only relinking
// repairs it.
func (k *Keys) Opens(ctx context.Context, sealed, salt []byte, owner secrets.Owner) bool {
	_, ok := k.open(ctx, sealed, salt, owner)
	return ok
}

// open is Opens that also returns the key ("" when none is stored).
func (k *Keys) open(ctx context.Context, sealed, salt []byte, owner secrets.Owner) (string, bool) {
	if sealed == nil {
		return "", true
	}
	key, err := k.ring.Open(sealed, salt, owner)
	if err != nil {
		k.logger.WarnContext(ctx, "stored key does not open with ENCRYPTION_KEY: its owner must relink", "user_id", owner.UserID, "purpose", owner.Purpose)
		return "", false
	}
	return key, true
}

// tell notifies a user when there is a Notifier.
func (k *Keys) tell(ctx context.Context, discordID, text string) {
	if k.notify != nil {
		k.notify.Notify(ctx, discordID, text)
	}
}

// MemberStatus is where u's nation key stands.
func (k *Keys) MemberStatus(ctx context.Context, u store.User) Status {
	return status(Member, u.PnwApiKey, k.Opens(ctx, u.PnwApiKey, u.KeySalt, secrets.NationKey(u.ID)), u.KeyRevokedAt, u.KeyVerifiedAt, u.KeyPermissions)
}

// ManagerStatus is where the alliance key of manager m (whose account is
// u) stands.
func (k *Keys) ManagerStatus(ctx context.Context, u store.User, m store.AllianceManager) Status {
	return status(Manager, m.ManagerApiKey, k.Opens(ctx, m.ManagerApiKey, u.KeySalt, secrets.AllianceKey(u.ID, m.AllianceID)),
		m.KeyRevokedAt, m.KeyVerifiedAt, m.KeyPermissions)
}

// RevokeManagerKey records that the game refused manager m's key for the
// alliance (allianceID, named allianceName) and tells its owner
// (discordID) once: the update matches only the refused key, not yet
// marked.
func (k *Keys) RevokeManagerKey(ctx context.Context, allianceID int64, allianceName string, m store.AllianceManager, discordID string) {
	errMarked := errors.New("key already marked revoked")
	err := k.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		n, err := q.AllianceManagerMarkKeyRevoked(ctx, store.AllianceManagerMarkKeyRevokedParams{ID: m.ID, ManagerApiKey: m.ManagerApiKey})
		if err == nil && n == 0 {
			err = errMarked
		}
		return audit.Entry{User: &m.UserID, Alliance: &allianceID, Action: "alliance.key_revoked", Resource: "alliance_manager",
			ResourceID: strconv.FormatInt(m.ID, 10), New: map[string]any{"reason": "the game refused the key"}}, err
	})
	if errors.Is(err, errMarked) {
		return
	} else if err != nil {
		k.logger.ErrorContext(ctx, "mark alliance key revoked", "manager_id", m.ID, "error", err)
		return
	}
	k.tell(ctx, discordID, fmt.Sprintf("The game refused your alliance key for **%s**: it was revoked or regenerated. "+
		"Run /alliance key in %s's server to link a new one.", allianceName, allianceName))
}

// NoAllianceKey says no manager of the alliance has a key that works for
// the read (NeedBank: one that may see the bank).
type NoAllianceKey struct {
	Alliance string
	NeedBank bool
}

func (e *NoAllianceKey) Error() string {
	what := "an alliance key"
	if e.NeedBank {
		what = "an alliance key that may see the bank (the game's alliance_view_bank permission)"
	}
	return fmt.Sprintf("No manager of %s has %s linked: a manager links one with /alliance key.", e.Alliance, what)
}

// WithAllianceKey runs read with the alliance's own manager keys in turn
// (never another alliance's, never a member's), most recently verified
// first, until one works. A key the game refuses is marked revoked, its
// owner told once, and the next tried; so is one that may no longer see
// the bank. With none left it returns a *NoAllianceKey.
func (k *Keys) WithAllianceKey(ctx context.Context, a store.Alliance, needBank bool, read func(key string) error) error {
	rows, err := k.store.AllianceManagerListUsableKeys(ctx, store.AllianceManagerListUsableKeysParams{AllianceID: a.ID, NeedBank: needBank})
	if err != nil {
		return fmt.Errorf("alliance keys: %w", err)
	}
	for _, r := range rows {
		m := r.AllianceManager
		key, err := k.ring.Open(m.ManagerApiKey, r.KeySalt, secrets.AllianceKey(m.UserID, a.ID))
		if err != nil {
			k.logger.ErrorContext(ctx, "alliance key does not open: is ENCRYPTION_KEY the one it was sealed with?", "manager_id", m.ID)
			continue
		}
		err = read(key)
		switch {
		case errors.Is(err, pnw.ErrInvalidKey):
			k.RevokeManagerKey(ctx, a.ID, a.Name, m, r.DiscordID)
		case errors.Is(err, pnw.ErrPermission):
			k.logger.InfoContext(ctx, "alliance key may not read this", "manager_id", m.ID)
		default:
			return err
		}
	}
	return &NoAllianceKey{Alliance: a.Name, NeedBank: needBank}
}

// Own is a manager's own alliance key, opened: what the game records as
// who acted.
type Own struct {
	Key     string
	manager store.AllianceManager
	owner   string // Discord id
}

// OwnRefused says why a manager's own key cannot do something: Reason for
// the audit log, Message for them.
type OwnRefused struct{ Reason, Message string }

func (e *OwnRefused) Error() string { return e.Message }

// Actor is a manager acting with their own alliance key: their account,
// the alliance, and their manager row there as the request loaded it to
// authorize them (access.Perms.Manager; nil for someone who manages
// nothing). Nothing reads the row again.
type Actor struct {
	User     store.User
	Alliance store.Alliance
	Row      *store.AllianceManager
}

// OwnKey opens the acting manager's own alliance key when it may act for
// their alliance now; otherwise an *OwnRefused says why. The game is asked
// first (recheckManager): a key it refuses is marked revoked, one whose
// nation is no longer a member of the alliance is retired, and what the key
// may do is what the game says now. A game that does not answer is its error:
// nothing may be done on a guess. The game records who acted, so such
// actions never use a pooled key.
func (k *Keys) OwnKey(ctx context.Context, mgr Actor, perm string) (Own, error) {
	u, a, m := mgr.User, mgr.Alliance, mgr.Row
	if m == nil || m.ManagerApiKey == nil {
		return Own{}, &OwnRefused{"no own key", "This needs your own alliance key: link one with /alliance key. Nothing was done."}
	}
	revoked := &OwnRefused{"own key revoked", "The game refused your alliance key: link your current one with /alliance key. Nothing was done."}
	if m.KeyRevokedAt != nil {
		return Own{}, revoked
	}
	key, err := k.ring.Open(m.ManagerApiKey, u.KeySalt, secrets.AllianceKey(u.ID, m.AllianceID))
	if err != nil {
		return Own{}, &OwnRefused{"own key unreadable", "Your alliance key is stored but unreadable (it was encrypted with a master key the bot " +
			"no longer has): link it again with /alliance key. Nothing was done."}
	}
	state, perms, err := k.recheckManager(ctx, a, *m, u.DiscordID, key)
	switch {
	case err != nil:
		return Own{}, err
	case state == Revoked:
		return Own{}, revoked
	case state == None:
		return Own{}, &OwnRefused{"own key's nation not in the alliance", fmt.Sprintf("The game says your nation is no longer a member of %s, "+
			"so your alliance key may not act for it: pnwbot deleted it. Nothing was done.", a.Name)}
	case !perms[perm]:
		return Own{}, &OwnRefused{"own key lacks " + perm, fmt.Sprintf("Your alliance key may not do this in the game (it lacks %s): make a key with it "+
			"(Account, then API Key) and link it with /alliance key. Nothing was done.", perm)}
	}
	return Own{Key: key, manager: *m, owner: u.DiscordID}, nil
}

// recheckManager asks the game about manager m's alliance key for a (key,
// opened; owner is its owner's Discord id) and records the answer: Revoked
// when the game refuses the key (marked, its owner told once), None when
// its nation is no longer a member of a (the key is retired, its owner
// told once), otherwise Linked with what the key may do now. A game that
// does not answer is an error, and nothing is recorded.
func (k *Keys) recheckManager(ctx context.Context, a store.Alliance, m store.AllianceManager, owner, key string) (State, map[string]bool, error) {
	info, err := k.game.Me(ctx, key)
	switch {
	case errors.Is(err, pnw.ErrInvalidKey):
		k.RevokeManagerKey(ctx, a.ID, a.Name, m, owner)
		return Revoked, nil, nil
	case err != nil:
		return None, nil, err
	case !pnw.InAlliance(info.Nation.AllianceId, info.Nation.AlliancePosition, a.PnwAllianceID):
		if err := k.retireManagerKey(ctx, a, m, owner, info.Nation); err != nil {
			return None, nil, fmt.Errorf("retire alliance key: %w", err)
		}
		return None, nil, nil
	}
	perms, err := json.Marshal(info.Permissions)
	if err == nil {
		_, err = k.store.AllianceManagerKeyVerified(ctx, store.AllianceManagerKeyVerifiedParams{ID: m.ID, ManagerApiKey: m.ManagerApiKey, KeyPermissions: perms})
	}
	if err != nil { // what the game said stands; the next check records it
		k.logger.ErrorContext(ctx, "record alliance key check", "manager_id", m.ID, "error", err)
	}
	return Linked, Permissions(perms), nil
}

// retireManagerKey deletes manager m's key for a, whose nation (as the game
// just said, n) is not a member of a, audited, and tells its owner once:
// the update matches only that key, not yet deleted. A key retired or
// replaced meanwhile is no error; a failed deletion is.
func (k *Keys) retireManagerKey(ctx context.Context, a store.Alliance, m store.AllianceManager, owner string, n pnw.KeyOwner) error {
	errGone := errors.New("key already retired or replaced")
	ctx = context.WithoutCancel(ctx) // the retirement must not be lost with the request
	err := k.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		done, err := q.AllianceManagerRetireKey(ctx, store.AllianceManagerRetireKeyParams{ID: m.ID, ManagerApiKey: m.ManagerApiKey})
		if err == nil && done == 0 {
			err = errGone
		}
		return audit.Entry{User: &m.UserID, Alliance: &a.ID, Action: "alliance.key_retired", Resource: "alliance_manager", ResourceID: strconv.FormatInt(m.ID, 10),
			Old: map[string]any{"key": "[redacted]"}, New: map[string]any{"reason": "the key's nation is not a member of the alliance",
				"nation_id": n.Id, "nation_alliance_id": n.AllianceId, "position": n.AlliancePosition}}, err
	})
	if errors.Is(err, errGone) {
		return nil
	} else if err != nil {
		return err
	}
	k.tell(ctx, owner, fmt.Sprintf("The game says your nation is no longer a member of **%s**, so pnwbot deleted your alliance key for it: "+
		"it acts for no alliance its nation is not in. If you return, link a key again with /alliance key in %s's server.", a.Name, a.Name))
	return nil
}

// Refused marks an own key revoked, and tells its owner once, when err
// (what the game answered an action taken with it) says the game refused
// the key. It outlives the request: the mark must not be lost.
func (k *Keys) Refused(ctx context.Context, a store.Alliance, own Own, err error) {
	if errors.Is(err, pnw.ErrInvalidKey) {
		k.RevokeManagerKey(context.WithoutCancel(ctx), a.ID, a.Name, own.manager, own.owner)
	}
}
