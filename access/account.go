package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"pnwbot/audit"
	"pnwbot/secrets"
	"pnwbot/store"
)

// CreateAccount makes the account of a Discord user on first contact,
// audited (user.create), and returns it. When a concurrent first contact
// made it meanwhile, it returns that account and audits nothing more.
func (c Changes) CreateAccount(ctx context.Context, discordID, username string) (store.User, error) {
	var u store.User
	err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		var err error
		u, err = q.UserCreate(ctx, store.UserCreateParams{DiscordID: discordID, DiscordUsername: username, KeySalt: secrets.NewSalt()})
		return audit.Entry{User: &u.ID, Action: "user.create", Resource: "user", ResourceID: strconv.FormatInt(u.ID, 10)}, err
	})
	if errors.Is(err, store.ErrNotFound) { // UserCreate found the Discord id taken
		if u, err = c.Log.Store.UserGetByDiscordID(ctx, discordID); err != nil {
			return u, fmt.Errorf("load user: %w", err)
		}
		return u, nil
	} else if err != nil {
		return u, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// Preferences are a user's own choices (users.preferences).
type Preferences struct {
	// Private makes every reply ephemeral.
	Private bool `json:"private"`
	// AuditReminders lets the daily audit DM the rules one fails.
	AuditReminders bool `json:"audit_reminders"`
	// ShareNation lets other members see one's linked nation with
	// /nation user:@them.
	ShareNation bool `json:"share_nation"`
}

// PreferencesOf decodes users.preferences: replies public, audit
// reminders and a shared nation unless the user chose otherwise. Keys it
// does not know, or of another type, count for nothing.
func PreferencesOf(raw json.RawMessage) Preferences {
	p := Preferences{AuditReminders: true, ShareNation: true} // kept when a key is absent
	_ = json.Unmarshal(raw, &p)                               // a CHECK keeps it an object
	return p
}

// SetPreferences stores the preferences of u, as it was read, as they
// choose (audited user.preferences), keeping the keys of users.preferences
// Preferences does not know.
func (c Changes) SetPreferences(ctx context.Context, u store.User, p Preferences) error {
	all := map[string]any{}
	if err := json.Unmarshal(u.Preferences, &all); err != nil {
		return fmt.Errorf("stored preferences: %w", err)
	}
	all["private"] = p.Private
	all["audit_reminders"] = p.AuditReminders
	all["share_nation"] = p.ShareNation
	raw, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		_, err := q.UserSetPreferences(ctx, store.UserSetPreferencesParams{ID: u.ID, Preferences: raw})
		return audit.Entry{User: &u.ID, Action: "user.preferences", Resource: "user", ResourceID: strconv.FormatInt(u.ID, 10),
			Old: PreferencesOf(u.Preferences), New: p}, err
	})
}

// SoleAdmin refuses to delete the account of the only admin (who may
// manage settings) of Alliances, by name: no alliance is left without one.
type SoleAdmin struct{ Alliances []string }

func (e *SoleAdmin) Error() string { return "the only admin of " + strings.Join(e.Alliances, ", ") }

// DeleteAccount deletes u's account, as they asked, with every personal
// row (store.DeleteAccount), audited user.delete without their name. A
// *SoleAdmin refusal is audited; store.ErrNotFound when it is gone already.
func (c Changes) DeleteAccount(ctx context.Context, u store.User) error {
	e := audit.Entry{User: &u.ID, Action: "user.delete", Resource: "account", ResourceID: strconv.FormatInt(u.ID, 10),
		Old: map[string]any{"linked_nation": u.PnwNationID != nil}}
	err := c.Log.Store.DeleteAccount(ctx, u.ID, e.Params())
	var sole *store.SoleAdminError
	if errors.As(err, &sole) {
		c.Log.Record(ctx, audit.Entry{User: &u.ID, Action: "user.delete", Resource: "account", ResourceID: strconv.FormatInt(u.ID, 10), Failed: true,
			New: map[string]any{"reason": "last admin", "alliances": sole.Alliances}})
		return &SoleAdmin{Alliances: sole.Alliances}
	}
	return err
}

// Refusals of LinkedNation and SharedNation.
var (
	// ErrNotLinked: the user has no account, or linked no nation.
	ErrNotLinked = errors.New("the user linked no nation")
	// ErrNationPrivate: the user keeps their nation from others
	// (Preferences.ShareNation off).
	ErrNationPrivate = errors.New("the user keeps their nation private")
)

// LinkedNation returns the game id of the nation the Discord user
// discordID linked, for someone allowed to see anyone's (a banker).
func (c Changes) LinkedNation(ctx context.Context, discordID string) (int64, error) {
	u, err := c.Log.Store.UserGetByDiscordID(ctx, discordID)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.PnwNationID == nil {
		return 0, ErrNotLinked
	} else if err != nil {
		return 0, fmt.Errorf("load user: %w", err)
	}
	return *u.PnwNationID, nil
}

// SharedNation returns the game id of the nation the Discord user
// discordID linked, for viewer (users.id, 0 without an account; Discord
// id viewerDiscordID) to see. A user who keeps it private is refused
// before anything says whether they linked one, and the refusal audited.
func (c Changes) SharedNation(ctx context.Context, viewer int64, viewerDiscordID, discordID string) (int64, error) {
	u, err := c.Log.Store.UserGetByDiscordID(ctx, discordID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, ErrNotLinked
	case err != nil:
		return 0, fmt.Errorf("load user: %w", err)
	case !PreferencesOf(u.Preferences).ShareNation:
		e := audit.Entry{Action: "permission.denied", Resource: "nation_share", ResourceID: strconv.FormatInt(u.ID, 10), Failed: true,
			New: map[string]any{"reason": "nation private"}}
		if viewer != 0 {
			e.User = &viewer
		} else {
			e.New = map[string]any{"reason": "nation private", "discord_id": viewerDiscordID}
		}
		c.Log.Record(ctx, e)
		return 0, ErrNationPrivate
	case u.PnwNationID == nil:
		return 0, ErrNotLinked
	}
	return *u.PnwNationID, nil
}
