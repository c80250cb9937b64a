package access_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestSystemMatrix is the permission matrix of system admins: every level,
// with and without overrides, against every permission, loaded from the
// database once per request (access.Load) and decided by access.Check.
func TestSystemMatrix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	const (
		users     = access.ManageUsers
		alliances = access.ManageAlliances
		audit     = access.ViewAuditLogs
		system    = access.ManageSystem
		admins    = access.ManageAdmins
	)
	for i, tc := range []struct {
		name      string
		level     string // "" for no system_admins row
		overrides string
		holds     []access.SystemPermission
	}{
		{"not an admin", "", "", nil},
		{"admin", access.LevelAdmin, `{}`, []access.SystemPermission{users, alliances, audit, system}},
		{"admin granted canManageAdmins", access.LevelAdmin, `{"canManageAdmins": true}`, []access.SystemPermission{users, alliances, audit, system, admins}},
		{"admin without the audit log", access.LevelAdmin, `{"canViewAuditLogs": false}`, []access.SystemPermission{users, alliances, system}},
		{"admin with an unknown override", access.LevelAdmin, `{"canEverything": true}`, []access.SystemPermission{users, alliances, audit, system}},
		{"super_admin", access.LevelSuperAdmin, `{}`, access.SystemPermissions},
		{"super_admin holds all whatever the overrides", access.LevelSuperAdmin, `{"canManageAdmins": false, "canManageUsers": false}`, access.SystemPermissions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := st.UserCreate(ctx, store.UserCreateParams{DiscordID: string(rune('1' + i)), KeySalt: secrets.NewSalt()})
			require.NoError(t, err)
			if tc.level != "" {
				_, err = st.SystemAdminUpsert(ctx, store.SystemAdminUpsertParams{UserID: u.ID, Level: tc.level, Permissions: []byte(tc.overrides)})
				require.NoError(t, err)
			}
			for _, p := range access.SystemPermissions {
				want := false
				for _, h := range tc.holds {
					want = want || h == p
				}
				missing := check(t, st, u.ID, 0, access.System(p))
				if want {
					require.Empty(t, missing, p)
				} else {
					require.Equal(t, []string{string(p)}, missing)
				}
			}
			missing := check(t, st, u.ID, 0, access.System(access.SystemPermissions...))
			require.Len(t, missing, len(access.SystemPermissions)-len(tc.holds))
		})
	}
	require.Len(t, access.SystemPermissions, 5)
}

// TestCheckAdminChange: who may change a system admin, decided from the
// grants as they stand.
func TestCheckAdminChange(t *testing.T) {
	t.Parallel()
	super := &access.Grant{Role: access.LevelSuperAdmin}
	admin := &access.Grant{Role: access.LevelAdmin, Overrides: []byte(`{}`)}
	keeper := &access.Grant{Role: access.LevelAdmin, Overrides: []byte(`{"canManageAdmins": true}`)}
	blind := &access.Grant{Role: access.LevelAdmin, Overrides: []byte(`{"canManageAdmins": true, "canViewAuditLogs": false}`)}
	supers := func(n int64) func() (int64, error) { return func() (int64, error) { return n, nil } }
	for _, tc := range []struct {
		name    string
		change  access.AdminChange
		missing []string // a *Denied naming these
		refused string   // an *AdminRefused saying this
	}{
		{"super admin makes an admin", access.AdminChange{Actor: super, After: admin}, nil, ""},
		{"not an admin", access.AdminChange{After: admin}, []string{"canManageAdmins"}, ""},
		{"plain admin may not manage admins", access.AdminChange{Actor: admin, After: admin}, []string{"canManageAdmins"}, ""},
		{"keeper makes an admin", access.AdminChange{Actor: keeper, After: admin}, nil, ""},
		{"no one grants what they lack", access.AdminChange{Actor: blind, After: admin}, []string{"canViewAuditLogs"}, ""},
		{"no one removes what they lack", access.AdminChange{Actor: blind, Before: admin}, []string{"canViewAuditLogs"}, ""},
		{"only a super admin makes one", access.AdminChange{Actor: keeper, Before: keeper, AfterGranted: access.LevelSuperAdmin, After: keeper}, nil,
			"only a super admin makes or unmakes a super admin"},
		{"only a super admin unmakes one", access.AdminChange{Actor: keeper, Before: super}, nil, "only a super admin makes or unmakes a super admin"},
		{"the last super admin stays", access.AdminChange{Actor: super, Before: super, SuperAdmins: supers(1)}, nil, "the last super admin stays"},
		{"one of two super admins goes", access.AdminChange{Actor: super, Before: super, SuperAdmins: supers(2)}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := access.CheckAdminChange(tc.change)
			var denied *access.Denied
			var refused *access.AdminRefused
			switch {
			case tc.missing != nil:
				require.ErrorAs(t, err, &denied)
				require.Equal(t, tc.missing, denied.Missing)
			case tc.refused != "":
				require.ErrorAs(t, err, &refused)
				require.Equal(t, tc.refused, refused.Reason)
			default:
				require.NoError(t, err)
			}
		})
	}
}
