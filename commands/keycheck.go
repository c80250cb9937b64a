package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

// keyCheckAge is how recent a check spares a stored key from the daily
// re-verification: a key /me checked this morning is not asked again.
const keyCheckAge = keyRecheck / 2

// keyCheckPage bounds each query of the re-verification.
const keyCheckPage = 100

// KeyCheck counts what VerifyKeys did.
type KeyCheck struct {
	Checked, Revoked, Skipped int
}

// VerifyKeys asks the game about every stored key, members' and managers',
// not checked for keyCheckAge. A key the game refuses is marked revoked
// (audited) and its owner told once, in a DM; a game that does not answer
// leaves a key as it was (Skipped), for the next pass.
func (d *Deps) VerifyKeys(ctx context.Context) (KeyCheck, error) {
	var c KeyCheck
	before := d.Now().Add(-keyCheckAge)
	for after := int64(0); ; {
		users, err := d.Store.UserListKeysToVerify(ctx, store.UserListKeysToVerifyParams{CheckedBefore: &before, AfterID: after, RowLimit: keyCheckPage})
		if err != nil {
			return c, fmt.Errorf("member keys: %w", err)
		}
		for _, u := range users {
			after = u.ID
			if !d.keyOpens(ctx, u) {
				c.Skipped++ // only relinking repairs it; /me says so
				continue
			}
			switch checked := d.recheckKey(ctx, u, keyCheckAge); {
			case checked.KeyRevokedAt != nil:
				c.Revoked++
				d.notify(ctx, u.DiscordID, "The game refused your API key: it was revoked or regenerated. Run /link with your new key to keep using pnwbot.")
			case checked.KeyVerifiedAt != u.KeyVerifiedAt:
				c.Checked++
			default:
				c.Skipped++
			}
		}
		if len(users) < keyCheckPage {
			break
		}
	}
	for after := int64(0); ; {
		rows, err := d.Store.AllianceManagerListKeysToVerify(ctx, store.AllianceManagerListKeysToVerifyParams{CheckedBefore: &before, AfterID: after, RowLimit: keyCheckPage})
		if err != nil {
			return c, fmt.Errorf("manager keys: %w", err)
		}
		for _, r := range rows {
			after = r.AllianceManager.ID
			switch d.verifyManagerKey(ctx, r) {
			case keyRevoked:
				c.Revoked++
			case keyChecked:
				c.Checked++
			default:
				c.Skipped++
			}
		}
		if len(rows) < keyCheckPage {
			break
		}
	}
	return c, ctx.Err()
}

type keyOutcome int

const (
	keySkipped keyOutcome = iota
	keyChecked
	keyRevoked
)

// verifyManagerKey asks the game about one manager's key and records the
// answer.
func (d *Deps) verifyManagerKey(ctx context.Context, r store.AllianceManagerListKeysToVerifyRow) keyOutcome {
	m := r.AllianceManager
	key, err := d.Keys.Open(m.ManagerApiKey, r.KeySalt, secrets.AllianceKey(m.UserID, m.AllianceID))
	if err != nil {
		d.Logger.WarnContext(ctx, "alliance key does not open with ENCRYPTION_KEY: its owner must link it again", "manager_id", m.ID)
		return keySkipped
	}
	info, err := d.Game.Me(ctx, key)
	switch {
	case errors.Is(err, pnw.ErrInvalidKey):
		d.revokeAllianceKey(ctx, m.AllianceID, r.AllianceName, m, r.DiscordID)
		return keyRevoked
	case err != nil:
		d.Logger.WarnContext(ctx, "re-check alliance key", "manager_id", m.ID, "error", err)
		return keySkipped
	}
	perms, err := json.Marshal(info.Permissions)
	if err == nil {
		_, err = d.Store.AllianceManagerKeyVerified(ctx, store.AllianceManagerKeyVerifiedParams{ID: m.ID, ManagerApiKey: m.ManagerApiKey, KeyPermissions: perms})
	}
	if err != nil {
		d.Logger.ErrorContext(ctx, "record alliance key check", "manager_id", m.ID, "error", err)
		return keySkipped
	}
	return keyChecked
}

// notify tells a user something in a DM that no command waits on: through
// Notices (durable, retried) when set, else DM at once. A failure is logged.
func (d *Deps) notify(ctx context.Context, discordID, text string) {
	m := d.Notices
	if m == nil {
		m = d.DM
	}
	if m == nil {
		return
	}
	if err := m.DirectMessage(ctx, discordID, &bot.Response{Content: text}); err != nil {
		d.Logger.WarnContext(ctx, "notice", "error", err)
	}
}
