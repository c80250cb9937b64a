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
