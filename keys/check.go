package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

// RecheckAge is how old the last check of a member's key may be before
// /me asks the game again: a key costs one request a day at most so.
const RecheckAge = 24 * time.Hour

// verifyAge is how recent a check spares a stored key from the periodic
// re-verification: a key /me checked this morning is not asked again.
const verifyAge = RecheckAge / 2

// verifyPage bounds each query of the re-verification.
const verifyPage = 100

// Recheck asks the game about u's stored nation key when its last check is
// older than maxAge, records the answer (audited), and returns the updated
// row and where its key stands (as MemberStatus, the key opened once). A
// game outage, or a key that does not open, leaves it as it was.
func (k *Keys) Recheck(ctx context.Context, u store.User, maxAge time.Duration) (store.User, Status) {
	key, opens := k.open(ctx, u.PnwApiKey, u.KeySalt, secrets.NationKey(u.ID))
	if opens {
		u = k.recheck(ctx, u, key, maxAge)
	}
	return u, status(Member, u.PnwApiKey, opens, u.KeyRevokedAt, u.KeyVerifiedAt, u.KeyPermissions)
}

// recheck is Recheck with the key opened.
func (k *Keys) recheck(ctx context.Context, u store.User, key string, maxAge time.Duration) store.User {
	if u.PnwApiKey == nil || u.KeyRevokedAt != nil || (u.KeyVerifiedAt != nil && k.now().Sub(*u.KeyVerifiedAt) < maxAge) {
		return u
	}
	orig := u
	info, err := k.game.Me(ctx, key)
	if err != nil && !errors.Is(err, pnw.ErrInvalidKey) {
		k.logger.WarnContext(ctx, "re-check key", "error", err)
		return u
	}
	now := k.now()
	// Both updates match only the key that was checked, so a key relinked
	// meanwhile is left alone; then nothing is recorded.
	errStale := errors.New("key changed meanwhile")
	err = k.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		e := audit.Entry{User: &u.ID, Resource: "user", ResourceID: strconv.FormatInt(u.ID, 10)}
		var n int64
		var err error
		if info == nil {
			e.Action, e.New = "user.key_revoked", map[string]any{"reason": "the game refused the stored key"}
			n, err = q.UserMarkKeyRevoked(ctx, store.UserMarkKeyRevokedParams{ID: u.ID, PnwApiKey: u.PnwApiKey})
			u.KeyRevokedAt = &now
		} else {
			var perms []byte
			if perms, err = json.Marshal(info.Permissions); err != nil {
				return e, err
			}
			e.Action, e.Old, e.New = "user.key_checked", json.RawMessage(u.KeyPermissions), json.RawMessage(perms)
			n, err = q.UserKeyVerified(ctx, store.UserKeyVerifiedParams{ID: u.ID, PnwApiKey: u.PnwApiKey, KeyPermissions: perms})
			u.KeyVerifiedAt, u.KeyPermissions = &now, perms
		}
		if err == nil && n == 0 {
			err = errStale
		}
		return e, err
	})
	if err != nil {
		if !errors.Is(err, errStale) {
			k.logger.ErrorContext(ctx, "record key check", "error", err)
		}
		return orig
	}
	return u
}

// Verified counts what Verify did.
type Verified struct {
	Checked, Revoked, Skipped int
	// Retired counts alliance keys whose nation left the alliance.
	Retired int
}

// Verify asks the game about every stored key, members' and managers', not
// checked for a while. A key the game refuses is marked revoked (audited)
// and its owner told once, and so is a manager's key whose nation is no
// longer a member of the alliance retired; a game that does not answer
// leaves a key as it was (Skipped), for the next pass.
func (k *Keys) Verify(ctx context.Context) (Verified, error) {
	var c Verified
	before := k.now().Add(-verifyAge)
	for after := int64(0); ; {
		users, err := k.store.UserListKeysToVerify(ctx, store.UserListKeysToVerifyParams{CheckedBefore: &before, AfterID: after, RowLimit: verifyPage})
		if err != nil {
			return c, fmt.Errorf("member keys: %w", err)
		}
		for _, u := range users {
			after = u.ID
			checked, st := k.Recheck(ctx, u, verifyAge)
			if st.State == Unreadable {
				c.Skipped++ // only relinking repairs it; /me says so
				continue
			}
			switch {
			case checked.KeyRevokedAt != nil:
				c.Revoked++
				k.tell(ctx, u.DiscordID, "The game refused your API key: it was revoked or regenerated. Run /link with your new key to keep using pnwbot.")
			case checked.KeyVerifiedAt != u.KeyVerifiedAt:
				c.Checked++
			default:
				c.Skipped++
			}
		}
		if len(users) < verifyPage {
			break
		}
	}
	for after := int64(0); ; {
		rows, err := k.store.AllianceManagerListKeysToVerify(ctx, store.AllianceManagerListKeysToVerifyParams{CheckedBefore: &before, AfterID: after, RowLimit: verifyPage})
		if err != nil {
			return c, fmt.Errorf("manager keys: %w", err)
		}
		for _, r := range rows {
			after = r.AllianceManager.ID
			switch state, err := k.verifyManagerKey(ctx, r); {
			case err != nil:
				c.Skipped++
			case state == Revoked:
				c.Revoked++
			case state == None:
				c.Retired++
			default:
				c.Checked++
			}
		}
		if len(rows) < verifyPage {
			break
		}
	}
	return c, ctx.Err()
}

// errUnopened skips a stored key that does not open (k.open logged it).
var errUnopened = errors.New("stored key does not open with ENCRYPTION_KEY")

// verifyManagerKey asks the game about one manager's key and records the
// answer (recheckManager): Linked when checked, Revoked when refused, None
// when retired; an error (logged) when skipped.
func (k *Keys) verifyManagerKey(ctx context.Context, r store.AllianceManagerListKeysToVerifyRow) (State, error) {
	m := r.AllianceManager
	key, ok := k.open(ctx, m.ManagerApiKey, r.KeySalt, secrets.AllianceKey(m.UserID, m.AllianceID))
	if !ok {
		return None, errUnopened
	}
	a := store.Alliance{ID: m.AllianceID, PnwAllianceID: r.PnwAllianceID, Name: r.AllianceName}
	state, _, err := k.recheckManager(ctx, a, m, r.DiscordID, key)
	if err != nil {
		k.logger.WarnContext(ctx, "re-check alliance key", "manager_id", m.ID, "error", err)
	}
	return state, err
}

// RetireLeavers follows alliance a's member list as a pass just read it:
// the usable alliance key of a manager whose linked nation is not on it as
// a member (gone, or an applicant) is checked with the game at once
// (recheckManager), so a key whose nation left is retired, and its owner
// told, within one pass. It returns how many it retired; a game that does
// not answer leaves a key for the next pass.
func (k *Keys) RetireLeavers(ctx context.Context, a store.Alliance, members []pnw.Nation) (int, error) {
	in := make(map[string]bool, len(members))
	for _, n := range members {
		in[n.Id] = pnw.InAlliance(n.AllianceId, n.AlliancePosition, a.PnwAllianceID)
	}
	rows, err := k.store.AllianceManagerListUsableKeys(ctx, store.AllianceManagerListUsableKeysParams{AllianceID: a.ID})
	if err != nil {
		return 0, fmt.Errorf("alliance keys: %w", err)
	}
	retired := 0
	for _, r := range rows {
		m := r.AllianceManager
		if r.PnwNationID != nil && in[strconv.FormatInt(*r.PnwNationID, 10)] {
			continue
		}
		key, ok := k.open(ctx, m.ManagerApiKey, r.KeySalt, secrets.AllianceKey(m.UserID, a.ID))
		if !ok {
			continue
		}
		switch state, _, err := k.recheckManager(ctx, a, m, r.DiscordID, key); {
		case err != nil:
			k.logger.WarnContext(ctx, "re-check the alliance key of a manager off the member list", "manager_id", m.ID, "error", err)
		case state == None:
			retired++
		}
	}
	return retired, ctx.Err()
}
