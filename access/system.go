package access

import (
	"encoding/json"
	"slices"
)

// SystemPermission is a system admin permission, named as stored in
// system_admins.permissions.
type SystemPermission string

// The five system admin permissions.
const (
	ManageUsers     SystemPermission = "canManageUsers"
	ManageAlliances SystemPermission = "canManageAlliances"
	ViewAuditLogs   SystemPermission = "canViewAuditLogs"
	ManageSystem    SystemPermission = "canManageSystem"
	ManageAdmins    SystemPermission = "canManageAdmins"
)

// SystemPermissions lists every system admin permission, in the order
// replies show them.
var SystemPermissions = []SystemPermission{ManageUsers, ManageAlliances, ViewAuditLogs, ManageSystem, ManageAdmins}

// System admin levels, lowest first, as stored in system_admins.level.
const (
	LevelAdmin      = "admin"
	LevelSuperAdmin = "super_admin"
)

// Levels lists the system admin levels, lowest first.
var Levels = []string{LevelAdmin, LevelSuperAdmin}

// Valid reports whether p is a system admin permission.
func (p SystemPermission) Valid() bool { return slices.Contains(SystemPermissions, p) }

// SystemSet is a set of system admin permissions.
type SystemSet map[SystemPermission]bool

// List returns the permissions in s, in the order of SystemPermissions.
func (s SystemSet) List() []SystemPermission { return list(s, SystemPermissions) }

// Missing returns the permissions of need (in order, without repeats) that
// s lacks.
func (s SystemSet) Missing(need ...SystemPermission) []SystemPermission { return missing(s, need) }

// SystemPreset returns a level's permissions: super_admin holds all, admin
// all but canManageAdmins (the seed's default), an unknown level none.
func SystemPreset(level string) SystemSet {
	s := SystemSet{}
	for _, p := range SystemPermissions {
		s[p] = level == LevelSuperAdmin || (level == LevelAdmin && p != ManageAdmins)
	}
	return s
}

// SystemEffective is a level's preset with overrides (true grants, false
// takes away) on top. A super_admin holds everything whatever the
// overrides; unknown permission names are ignored.
func SystemEffective(level string, overrides map[SystemPermission]bool) SystemSet {
	s := SystemPreset(level)
	if level != LevelAdmin {
		return s
	}
	for p, on := range overrides {
		if p.Valid() {
			s[p] = on
		}
	}
	return s
}

// SystemChanged lists, in order, an admin's overrides that differ from the
// level's preset, as Changed does; a super admin's count for nothing.
func SystemChanged(level string, overrides map[SystemPermission]bool) []string {
	if level != LevelAdmin {
		return nil
	}
	return changed(SystemPreset(level), overrides, SystemPermissions)
}

// SystemOverrides decodes system_admins.permissions.
func SystemOverrides(raw json.RawMessage) (map[SystemPermission]bool, error) {
	return overrides[SystemPermission](raw, "system admin")
}

// SystemOf returns what a system admin's grant (level and overrides)
// allows.
func SystemOf(g Grant) (SystemSet, error) {
	o, err := SystemOverrides(g.Overrides)
	if err != nil {
		return nil, err
	}
	return SystemEffective(g.Role, o), nil
}

// AdminChange is a change to a system admin, as the rows stand under the
// lock on system_admins. A nil grant is no row: the actor is no admin,
// the target was none before, or is none after.
type AdminChange struct {
	Actor, Before, After *Grant
	// AfterGranted is the level a listed admin keeps once the list drops
	// them ("" when none).
	AfterGranted string
	// SuperAdmins counts the super admins; read only when the change
	// demotes one.
	SuperAdmins func() (int64, error)
}

// AdminRefused is a change to a system admin that no permission allows.
type AdminRefused struct{ Reason string }

func (e *AdminRefused) Error() string { return "refused: " + e.Reason }

// CheckAdminChange decides a change to a system admin: the actor needs
// canManageAdmins and every permission the admin holds before or after it
// (a *Denied lists what they lack); only a super admin makes or unmakes a
// super admin, and the last super admin stays (an *AdminRefused).
func CheckAdminChange(c AdminChange) error {
	need := []SystemPermission{ManageAdmins}
	if c.Actor == nil {
		return &Denied{Need: System(need...), Missing: Names(need)}
	}
	held, err := SystemOf(*c.Actor)
	if err != nil {
		return err
	}
	for _, g := range []*Grant{c.Before, c.After} {
		if g == nil {
			continue
		}
		s, err := SystemOf(*g)
		if err != nil {
			return err
		}
		need = append(need, s.List()...)
	}
	if m := held.Missing(need...); len(m) > 0 {
		return &Denied{Need: System(need...), Missing: Names(m)}
	}
	level := func(g *Grant) string {
		if g == nil {
			return ""
		}
		return g.Role
	}
	before, after := level(c.Before), level(c.After)
	touchesSuper := before == LevelSuperAdmin || after == LevelSuperAdmin || c.AfterGranted == LevelSuperAdmin
	if touchesSuper && level(c.Actor) != LevelSuperAdmin {
		return &AdminRefused{"only a super admin makes or unmakes a super admin"}
	}
	if before == LevelSuperAdmin && after != LevelSuperAdmin {
		if n, err := c.SuperAdmins(); err != nil {
			return err
		} else if n <= 1 {
			return &AdminRefused{"the last super admin stays"}
		}
	}
	return nil
}
