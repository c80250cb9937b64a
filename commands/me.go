package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

func (d *Deps) meCommand() bot.Command {
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "me",
			Description: "Your pnwbot profile: nation, alliance, roles and key status",
		},
		Routes: d.routes(route{Path: "/me", Need: access.Member(access.ViewOwnData), Handler: d.me, Ephemeral: true}),
	}
}

func (d *Deps) me(ctx context.Context, req *call) (*bot.Response, error) {
	u := req.Account
	readable := d.keyOpens(ctx, u)
	if readable {
		u = d.recheckKey(ctx, u, keyRecheck)
	}
	e := &discordgo.MessageEmbed{Title: "Your pnwbot profile", Color: colorDefault}
	field := func(name, value string) {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: name, Value: fieldValue(value)})
	}

	if u.PnwNationID == nil {
		field("Nation", "Not linked: use /link.")
	} else {
		nation := fmt.Sprintf("Nation %d", *u.PnwNationID)
		r, err := d.Game.Nation(ctx, int(*u.PnwNationID))
		switch {
		case err == nil:
			n := r.Data
			nation = fmt.Sprintf("[%s](%s), led by %s", n.NationName, nationURL(n.Id), n.LeaderName)
			alliance := "None"
			if n.Alliance != nil && n.AllianceId != "0" {
				alliance = fmt.Sprintf("[%s](%s) · %s", n.Alliance.Name, allianceURL(n.AllianceId), capitalize(string(n.AlliancePosition)))
			}
			field("Nation", nation)
			field("Alliance", alliance)
			if r.Stale {
				field("Note", upperFirst(staleReason(r.Why))+": nation data is cached.")
			}
		default:
			// The profile still answers from the database alone.
			d.Logger.WarnContext(ctx, "me: nation lookup", "error", err)
			field("Nation", nation+" ("+staleReason(err)+": details unavailable)")
		}
		field("API key", keyStatus(u, readable))
	}

	roles, err := d.roles(ctx, u)
	if err != nil {
		return nil, err
	}
	field("Roles", roles)
	prefs := userPreferences(u)
	field("Replies", map[bool]string{true: "Private", false: "Public"}[prefs.Private]+" (change with /preferences)")
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}, Ephemeral: true}, nil
}

// keyRecheck is how old the last check of a stored key may be before /me
// asks the game again: a key costs one request a day at most this way.
const keyRecheck = 24 * time.Hour

// recheckKey asks the game about the stored key when its last check is older
// than maxAge, records the answer, and returns the updated row. A game outage
// leaves the stored status as it was.
func (d *Deps) recheckKey(ctx context.Context, u store.User, maxAge time.Duration) store.User {
	if u.PnwApiKey == nil || u.KeyRevokedAt != nil || (u.KeyVerifiedAt != nil && d.Now().Sub(*u.KeyVerifiedAt) < maxAge) {
		return u
	}
	orig := u
	key, err := d.Keys.Open(u.PnwApiKey, u.KeySalt, secrets.NationKey(u.ID))
	if err != nil { // keyOpens said it does
		return u
	}
	info, err := d.Game.Me(ctx, key)
	if err != nil && !errors.Is(err, pnw.ErrInvalidKey) {
		d.Logger.WarnContext(ctx, "re-check key", "error", err)
		return u
	}
	now := d.Now()
	// Both updates match only the key that was checked, so a key relinked
	// meanwhile is left alone; then nothing is recorded.
	errStale := errors.New("key changed meanwhile")
	err = d.change(ctx, func(q *store.Queries) (auditEntry, error) {
		e := auditEntry{user: &u.ID, resource: "user", resourceID: strconv.FormatInt(u.ID, 10)}
		var n int64
		var err error
		if info == nil {
			e.action, e.newValues = "user.key_revoked", map[string]any{"reason": "the game refused the stored key"}
			n, err = q.UserMarkKeyRevoked(ctx, store.UserMarkKeyRevokedParams{ID: u.ID, PnwApiKey: u.PnwApiKey})
			u.KeyRevokedAt = &now
		} else {
			var perms []byte
			if perms, err = json.Marshal(info.Permissions); err != nil {
				return e, err
			}
			e.action, e.oldValues, e.newValues = "user.key_checked", json.RawMessage(u.KeyPermissions), json.RawMessage(perms)
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
			d.Logger.ErrorContext(ctx, "record key check", "error", err)
		}
		return orig
	}
	return u
}

// keyOpens reports whether the caller's stored key, if any, opens with the
// bot's master keys. One that does not was sealed under another master key,
// such as by a process that still ran with the old ENCRYPTION_KEY after a
// rotation: only relinking repairs it.
func (d *Deps) keyOpens(ctx context.Context, u store.User) bool {
	return d.sealedOpens(ctx, u.PnwApiKey, u.KeySalt, secrets.NationKey(u.ID))
}

// sealedOpens reports whether a stored key (none counts as opening) opens
// with the bot's master keys, and logs, without the key, one that does not.
func (d *Deps) sealedOpens(ctx context.Context, sealed, salt []byte, owner secrets.Owner) bool {
	if sealed == nil {
		return true
	}
	if _, err := d.Keys.Open(sealed, salt, owner); err != nil {
		d.Logger.WarnContext(ctx, "stored key does not open with ENCRYPTION_KEY: its owner must relink", "user_id", owner.UserID, "purpose", owner.Purpose)
		return false
	}
	return true
}

// keyStatus describes the stored key without revealing anything of it;
// readable is whether it opens (keyOpens).
func keyStatus(u store.User, readable bool) string {
	switch {
	case u.PnwApiKey == nil:
		return "None stored."
	case !readable:
		return "Stored, but unreadable: it was encrypted with a master key the bot no longer has, so the bot cannot use it. " +
			"Run /link with your key to store it again."
	case u.KeyRevokedAt != nil:
		return fmt.Sprintf("Refused by the game since <t:%d:R>: it was revoked or regenerated. Run /link with your new key.", u.KeyRevokedAt.Unix())
	}
	s := "Stored encrypted"
	if u.KeyVerifiedAt != nil {
		s += fmt.Sprintf(", verified <t:%d:R>", u.KeyVerifiedAt.Unix())
	}
	var perms map[string]bool
	if json.Unmarshal(u.KeyPermissions, &perms) == nil && len(perms) > 0 {
		granted := 0
		for _, ok := range perms {
			if ok {
				granted++
			}
		}
		s += fmt.Sprintf("; the game grants it %d of %d permissions", granted, len(perms))
	}
	return s + "."
}

// roles lists the caller's alliance roles and admin level.
func (d *Deps) roles(ctx context.Context, u store.User) (string, error) {
	var lines []string
	admin, err := d.Store.SystemAdminGetByUser(ctx, u.ID)
	if err == nil {
		lines = append(lines, "System "+strings.ReplaceAll(admin.Level, "_", " "))
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("admin role: %w", err)
	}
	managed, err := d.Store.AllianceManagerListByUser(ctx, u.ID)
	if err != nil {
		return "", fmt.Errorf("manager roles: %w", err)
	}
	for _, m := range managed {
		lines = append(lines, fmt.Sprintf("%s of [%s](%s)", capitalize(m.AllianceManager.Role), m.AllianceName, allianceURL(fmt.Sprint(m.PnwAllianceID))))
	}
	if len(lines) == 0 {
		return "Member", nil
	}
	return strings.Join(lines, "\n"), nil
}
