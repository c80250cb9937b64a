package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

// Refused is a key that will not be stored, audited; Message says why.
type Refused struct{ Reason, Message string }

func (e *Refused) Error() string { return e.Message }

// Owner asks the game about a key a user submitted: its nation and what
// it may do. A key the game refuses is a *Refused (not audited: nothing
// about the user is known yet); retry says what to do then.
func (k *Keys) Owner(ctx context.Context, key, retry string) (*pnw.KeyInfo, error) {
	info, err := k.game.Me(ctx, key)
	if errors.Is(err, pnw.ErrInvalidKey) {
		return nil, &Refused{"refused by the game", "The game refused this key: it is wrong, revoked, or has no nation. " + retry}
	}
	return info, err
}

// LinkMember stores key (whose owner the game told, info) as u's nation key,
// sealed, with the nation it proves, audited. A nation already linked to
// another account stays with it: a *Refused, audited.
func (k *Keys) LinkMember(ctx context.Context, u store.User, key string, info *pnw.KeyInfo) error {
	nationID, err := strconv.ParseInt(info.Nation.Id, 10, 64)
	if err != nil {
		return fmt.Errorf("me: nation id %q: %w", info.Nation.Id, err)
	}
	taken := func() error {
		k.audit.Record(ctx, audit.Entry{User: &u.ID, Action: "user.link", Resource: "nation", ResourceID: info.Nation.Id,
			Failed: true, New: map[string]any{"reason": "nation linked to another account"}})
		return &Refused{"nation linked to another account", fmt.Sprintf("**%s** is already linked to another Discord account. "+
			"If it is yours, run /unlink from that account first. Nothing was saved.", info.Nation.NationName)}
	}
	if holder, err := k.store.UserGetByNationID(ctx, &nationID); err == nil && holder.ID != u.ID {
		return taken()
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("nation holder: %w", err)
	}
	sealed, perms, err := k.seal(key, u.KeySalt, secrets.NationKey(u.ID), info)
	if err != nil {
		return err
	}
	var retired []string
	err = k.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		if u.PnwNationID != nil && *u.PnwNationID != nationID {
			var err error
			if retired, err = retireKeysOf(ctx, q, u, "linked another nation"); err != nil {
				return audit.Entry{}, err
			}
		}
		_, err := q.UserLinkNation(ctx, store.UserLinkNationParams{ID: u.ID, PnwNationID: &nationID, PnwApiKey: sealed, KeyPermissions: perms})
		return audit.Entry{User: &u.ID, Action: "user.link", Resource: "nation", ResourceID: info.Nation.Id,
			Old: map[string]any{"nation_id": u.PnwNationID, "had_key": u.PnwApiKey != nil},
			New: map[string]any{"nation_id": nationID, "key": "[redacted]", "key_permissions": json.RawMessage(perms)}}, err
	})
	if store.IsNationLinked(err) {
		return taken() // linked by someone else meanwhile
	} else if err != nil {
		return fmt.Errorf("link nation: %w", err)
	}
	if len(retired) > 0 {
		k.tell(ctx, u.DiscordID, fmt.Sprintf("You linked another nation, so pnwbot deleted your alliance key for %s: it was your previous nation's. "+
			"Link your new nation's key with /alliance key there.", strings.Join(retired, ", ")))
	}
	return nil
}

// retireKeysOf deletes every alliance key of u, whose linked nation goes
// or changes (why), with an audit row each, inside the caller's
// transaction: each key proved that nation, and acts for no other. It
// returns the alliances' names.
func retireKeysOf(ctx context.Context, q *store.Queries, u store.User, why string) ([]string, error) {
	rows, err := q.AllianceManagerRetireKeysOfUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.AllianceName
		if err := audit.Write(ctx, q, audit.Entry{User: &u.ID, Alliance: &r.AllianceID, Action: "alliance.key_retired", Resource: "alliance_manager",
			ResourceID: strconv.FormatInt(r.ID, 10), Old: map[string]any{"key": "[redacted]"},
			New: map[string]any{"reason": why, "nation_id": u.PnwNationID}}); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// seal seals key for owner, and encodes what the game lets it do.
func (k *Keys) seal(key string, salt []byte, owner secrets.Owner, info *pnw.KeyInfo) (sealed, perms []byte, err error) {
	if sealed, err = k.ring.Seal(key, salt, owner); err != nil {
		return nil, nil, fmt.Errorf("seal key: %w", err)
	}
	perms, err = json.Marshal(info.Permissions)
	return sealed, perms, err
}

// UnlinkMember deletes u's nation key and unlinks their nation, and deletes
// their alliance keys (each proved that nation), audited. It returns the
// names of the alliances whose key went.
func (k *Keys) UnlinkMember(ctx context.Context, u store.User) ([]string, error) {
	var retired []string
	err := k.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		var err error
		if retired, err = retireKeysOf(ctx, q, u, "unlinked"); err != nil {
			return audit.Entry{}, err
		}
		_, err = q.UserUnlink(ctx, u.ID)
		return audit.Entry{User: &u.ID, Action: "user.unlink", Resource: "nation", ResourceID: strconv.FormatInt(*u.PnwNationID, 10),
			Old: map[string]any{"nation_id": u.PnwNationID, "key": "[redacted]"}}, err
	})
	if err != nil {
		return nil, fmt.Errorf("unlink: %w", err)
	}
	return retired, nil
}

// Refusals of OwnNation.
var (
	// ErrKeyRefused: the game refused u's stored nation key, now or before.
	ErrKeyRefused = errors.New("the game refused the stored nation key")
	// ErrKeyMoved: the stored key now belongs to another nation.
	ErrKeyMoved = errors.New("the stored nation key belongs to another nation")
)

// OwnNation asks the game now, with u's own stored nation key and never
// from a cache, what u's nation is: who u is in the game, for what only
// its leaders may do. The caller checked that u linked a nation.
func (k *Keys) OwnNation(ctx context.Context, u store.User) (pnw.KeyOwner, error) {
	if u.KeyRevokedAt != nil {
		return pnw.KeyOwner{}, ErrKeyRefused
	}
	key, err := k.ring.Open(u.PnwApiKey, u.KeySalt, secrets.NationKey(u.ID))
	if err != nil {
		return pnw.KeyOwner{}, fmt.Errorf("open key: %w", err)
	}
	info, err := k.game.Me(ctx, key)
	switch {
	case errors.Is(err, pnw.ErrInvalidKey):
		return pnw.KeyOwner{}, ErrKeyRefused
	case err != nil:
		return pnw.KeyOwner{}, err
	case info.Nation.Id != strconv.FormatInt(*u.PnwNationID, 10):
		return info.Nation, ErrKeyMoved
	}
	return info.Nation, nil
}

// LinkManager stores key (whose owner the game told, info) as manager m's
// alliance key in a, sealed, audited. It must be a key of m's own linked
// nation (u's), a member of the alliance; otherwise a *Refused, audited.
func (k *Keys) LinkManager(ctx context.Context, u store.User, a store.Alliance, m store.AllianceManager, key string, info *pnw.KeyInfo) error {
	refuse := func(reason, msg string) error {
		k.audit.Record(ctx, audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "alliance.key_link", Resource: "alliance_manager",
			ResourceID: strconv.FormatInt(m.ID, 10), Failed: true, New: map[string]any{"reason": reason, "key_nation": info.Nation.Id}})
		return &Refused{reason, msg + " Nothing was saved."}
	}
	if u.PnwNationID == nil || info.Nation.Id != strconv.FormatInt(*u.PnwNationID, 10) {
		return refuse("key of another nation", fmt.Sprintf("This key belongs to %s, not to your linked nation: use a key of your own nation.", info.Nation.NationName))
	}
	if !pnw.InAlliance(info.Nation.AllianceId, info.Nation.AlliancePosition, a.PnwAllianceID) {
		return refuse("nation not in the alliance", fmt.Sprintf("The game says your nation is not a member of %s.", a.Name))
	}
	sealed, perms, err := k.seal(key, u.KeySalt, secrets.AllianceKey(u.ID, a.ID), info)
	if err != nil {
		return err
	}
	err = k.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		_, err := q.AllianceManagerSetKey(ctx, store.AllianceManagerSetKeyParams{ID: m.ID, ManagerApiKey: sealed, KeyPermissions: perms})
		return audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "alliance.key_link", Resource: "alliance_manager", ResourceID: strconv.FormatInt(m.ID, 10),
			Old: map[string]any{"had_key": m.ManagerApiKey != nil},
			New: map[string]any{"key": "[redacted]", "key_permissions": json.RawMessage(perms)}}, err
	})
	if err != nil {
		return fmt.Errorf("store alliance key: %w", err)
	}
	return nil
}

// ForgetManager deletes manager m's alliance key in a, audited.
func (k *Keys) ForgetManager(ctx context.Context, u store.User, a store.Alliance, m store.AllianceManager) error {
	err := k.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		return audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "alliance.key_forget", Resource: "alliance_manager", ResourceID: strconv.FormatInt(m.ID, 10),
			Old: map[string]any{"key": "[redacted]"}}, q.AllianceManagerClearKey(ctx, m.ID)
	})
	if err != nil {
		return fmt.Errorf("forget alliance key: %w", err)
	}
	return nil
}
