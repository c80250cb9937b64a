package keys

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"pnwbot/store"
)

// Kind is whose key it is.
type Kind int

// The two kinds of stored key.
const (
	Member  Kind = iota // a member's nation key (/link)
	Manager             // a manager's alliance key (/alliance key)
)

// State is where a stored key stands.
type State int

// The states of a stored key.
const (
	None       State = iota // nothing stored
	Unreadable              // stored, but it does not open with the bot's master keys
	Revoked                 // the game refused it
	Linked                  // stored and usable
)

// String names the state in a word or two, for lists.
func (s State) String() string {
	return [...]string{None: "none", Unreadable: "unreadable", Revoked: "refused by the game", Linked: "linked"}[s]
}

// ManagerState is where manager m's alliance key stands as stored, without
// opening it (a list of managers).
func ManagerState(m store.AllianceManager) State {
	return status(Manager, m.ManagerApiKey, true, m.KeyRevokedAt, m.KeyVerifiedAt, m.KeyPermissions).State
}

// Status is where a stored key stands, never what it is.
type Status struct {
	Kind        Kind
	State       State
	RevokedAt   time.Time       // when the game refused it (Revoked)
	VerifiedAt  *time.Time      // the game's last answer about it, if any
	Permissions map[string]bool // what the game lets it do, as it last said
}

func status(kind Kind, sealed []byte, opens bool, revokedAt, verifiedAt *time.Time, perms []byte) Status {
	s := Status{Kind: kind, VerifiedAt: verifiedAt, Permissions: Permissions(perms)}
	switch {
	case sealed == nil:
		s.State = None
	case !opens:
		s.State = Unreadable
	case revokedAt != nil:
		s.State, s.RevokedAt = Revoked, *revokedAt
	default:
		s.State = Linked
	}
	return s
}

// Permissions decodes a key_permissions column: what the game lets a key
// do; none when NULL.
func Permissions(raw []byte) map[string]bool {
	var perms map[string]bool
	_ = json.Unmarshal(raw, &perms) // NULL without a key; written from the game's answer
	return perms
}

// AlliancePermissions are the game's key permissions that matter to an
// alliance key, in the order the status lists them.
var AlliancePermissions = []string{"alliance_view_bank", "alliance_withdraw_bank", "alliance_tax_brackets", "alliance_accept_applicants", "alliance_remove_members"}

// Text says where the key stands, in the one wording every front door
// shows; when renders a time as the front door does.
func (s Status) Text(when func(time.Time) string) string {
	noun, relink := "Stored", "Run /link with your key to store it again."
	if s.Kind == Manager {
		noun, relink = "Linked", "Link it again with /alliance key."
	}
	switch s.State {
	case None:
		return "None linked."
	case Unreadable:
		return noun + ", but unreadable: it was encrypted with a master key the bot no longer has, so the bot cannot use it. " + relink
	case Revoked:
		return fmt.Sprintf("Refused by the game since %s: it was revoked or regenerated. Link your new one (%s).", when(s.RevokedAt),
			map[Kind]string{Member: "/link", Manager: "/alliance key"}[s.Kind])
	}
	text := map[Kind]string{Member: "Stored encrypted", Manager: "Linked, stored encrypted"}[s.Kind]
	if s.VerifiedAt != nil {
		text += ", verified " + when(*s.VerifiedAt)
	}
	if len(s.Permissions) > 0 {
		granted := 0
		for _, ok := range s.Permissions {
			if ok {
				granted++
			}
		}
		text += fmt.Sprintf("; the game grants it %d of %d permissions", granted, len(s.Permissions))
	}
	if s.Kind == Manager {
		var of []string
		for _, p := range AlliancePermissions {
			if s.Permissions[p] {
				of = append(of, p)
			}
		}
		may := "nothing"
		if len(of) > 0 {
			may = strings.Join(of, ", ")
		}
		text += ". Of the alliance's it may: " + may
	}
	return text + "."
}
