package access

import (
	"encoding/json"
	"fmt"
	"slices"
)

// MemberPermission is a permission every user holds over their own
// account unless an admin took it away, named as stored in
// users.permissions.
type MemberPermission string

// The four member permissions.
const (
	ViewOwnData    MemberPermission = "canViewOwnData"
	EditOwnProfile MemberPermission = "canEditOwnProfile"
	LinkAPIKey     MemberPermission = "canLinkApiKey"
	DeleteAccount  MemberPermission = "canDeleteAccount"
)

// MemberPermissions lists every member permission, in the order replies
// show them.
var MemberPermissions = []MemberPermission{ViewOwnData, EditOwnProfile, LinkAPIKey, DeleteAccount}

// Valid reports whether p is a member permission.
func (p MemberPermission) Valid() bool { return slices.Contains(MemberPermissions, p) }

// MemberSet is a set of member permissions.
type MemberSet map[MemberPermission]bool

// MemberOf decodes users.permissions: what the user holds is what it says
// (the column's default grants all four).
func MemberOf(raw json.RawMessage) (MemberSet, error) {
	s := MemberSet{}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("member permissions: %w", err)
	}
	return s, nil
}

// Missing returns the permissions of need (in order, without repeats) that
// s lacks.
func (s MemberSet) Missing(need ...MemberPermission) []MemberPermission { return missing(s, need) }
