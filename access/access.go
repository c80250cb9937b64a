// Package access decides pnwbot's permissions: member permissions, alliance
// roles (viewer < manager < admin) and system admin levels (admin <
// super_admin), each a preset refined by per-row overrides. A front door
// loads a caller's Perms once per request for what its route Needs
// (load.go) and asks Check; the decisions work on Grants and Sets, never
// on rows. Changes writes what decides who may do what, each change with
// its audit row in one transaction: managers and system admins, member
// permissions, an alliance's binding to its server and its pages, and the
// account itself (made on first contact, its preferences, its deletion).
// It knows nothing of Discord or HTTP, so slash commands and web pages
// decide alike.
package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Permission is an alliance manager permission, named as stored in
// alliance_managers.permissions.
type Permission string

// The eight alliance permissions.
const (
	ViewMembers    Permission = "canViewMembers"
	ManageMembers  Permission = "canManageMembers"
	ViewBank       Permission = "canViewBank"
	ManageBank     Permission = "canManageBank"
	ViewWars       Permission = "canViewWars"
	ViewTrades     Permission = "canViewTrades"
	ManageSettings Permission = "canManageSettings"
	ViewAuditLog   Permission = "canViewAuditLog"
)

// Permissions lists every alliance permission, in the order replies show them.
var Permissions = []Permission{ViewMembers, ManageMembers, ViewBank, ManageBank, ViewWars, ViewTrades, ManageSettings, ViewAuditLog}

// Roles, lowest first, as stored in alliance_managers.role.
const (
	Viewer  = "viewer"
	Manager = "manager"
	Admin   = "admin"
)

// Roles lists the roles, lowest first.
var Roles = []string{Viewer, Manager, Admin}

// presets are the roles' permissions before overrides. manager is the
// seed's default manager permissions.
var presets = map[string][]Permission{
	Viewer:  {ViewMembers, ViewWars, ViewTrades},
	Manager: {ViewMembers, ViewBank, ViewWars, ViewTrades, ViewAuditLog},
	Admin:   Permissions,
}

// Valid reports whether p is an alliance permission.
func (p Permission) Valid() bool { return slices.Contains(Permissions, p) }

// Set is a set of permissions.
type Set map[Permission]bool

// Preset returns a role's permissions; an unknown role has none.
func Preset(role string) Set {
	s := Set{}
	for _, p := range presets[role] {
		s[p] = true
	}
	return s
}

// Effective is a role's preset with overrides (true grants, false takes
// away) on top. Unknown permission names are ignored.
func Effective(role string, overrides map[Permission]bool) Set {
	s := Preset(role)
	for p, on := range overrides {
		if p.Valid() {
			s[p] = on
		}
	}
	return s
}

// List returns the permissions in s, in the order of Permissions.
func (s Set) List() []Permission { return list(s, Permissions) }

// Missing returns the permissions of need (in order, without repeats) that
// s lacks.
func (s Set) Missing(need ...Permission) []Permission { return missing(s, need) }

// Changed lists, in order, the overrides that differ from the role's
// preset, each as "+canViewBank" (granted) or "−canManageBank" (taken).
func Changed(role string, overrides map[Permission]bool) []string {
	return changed(Preset(role), overrides, Permissions)
}

func changed[P ~string](preset, overrides map[P]bool, order []P) []string {
	var out []string
	for _, p := range order {
		if on, ok := overrides[p]; ok && on != preset[p] {
			sign := "−"
			if on {
				sign = "+"
			}
			out = append(out, sign+string(p))
		}
	}
	return out
}

func list[P comparable](s map[P]bool, order []P) []P {
	var out []P
	for _, p := range order {
		if s[p] {
			out = append(out, p)
		}
	}
	return out
}

func missing[P comparable](s map[P]bool, need []P) []P {
	var out []P
	for _, p := range need {
		if !s[p] && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Overrides decodes alliance_managers.permissions.
func Overrides(raw json.RawMessage) (map[Permission]bool, error) {
	return overrides[Permission](raw, "manager")
}

// overrides decodes a permissions column of overrides.
func overrides[P comparable](raw json.RawMessage, of string) (map[P]bool, error) {
	o := map[P]bool{}
	if len(raw) == 0 {
		return o, nil
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("%s permissions: %w", of, err)
	}
	return o, nil
}

// Grant is a stored role with its overrides on top: an alliance manager's
// role or a system admin's level, and its permissions column.
type Grant struct {
	Role      string
	Overrides json.RawMessage
}

// Of returns what an alliance manager's grant allows.
func Of(g Grant) (Set, error) {
	o, err := Overrides(g.Overrides)
	if err != nil {
		return nil, err
	}
	return Effective(g.Role, o), nil
}

// Standing is a manager's role and overrides; nil is no manager.
type Standing struct {
	Role      string
	Overrides map[Permission]bool
}

// Perms is what the standing allows; nothing for nil.
func (s *Standing) Perms() Set {
	if s == nil {
		return Set{}
	}
	return Effective(s.Role, s.Overrides)
}

// ErrLastAdmin refuses a change that would leave an alliance without an
// admin who may manage its settings.
var ErrLastAdmin = errors.New("last admin")

// CheckManagerChange decides a change of the target's standing in an
// alliance to after (nil: removed), from its managers as they stand under
// the lock (by users.id). The actor needs canManageSettings and every
// permission the target holds before or after, so that nobody grants, or
// takes from someone above them, what they do not hold (a *Denied); the
// alliance keeps at least one admin who may manage settings
// (ErrLastAdmin).
func CheckManagerChange(managers map[int64]*Standing, actor, target int64, after *Standing) error {
	need := append([]Permission{ManageSettings}, managers[target].Perms().List()...)
	need = append(need, after.Perms().List()...)
	if m := managers[actor].Perms().Missing(need...); len(m) > 0 {
		return &Denied{Need: Alliance(m...), Missing: Names(m)}
	}
	for id, s := range managers {
		if id != target && s != nil && s.Role == Admin && s.Perms()[ManageSettings] {
			return nil
		}
	}
	if after != nil && after.Role == Admin && after.Perms()[ManageSettings] {
		return nil
	}
	return ErrLastAdmin
}
