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
