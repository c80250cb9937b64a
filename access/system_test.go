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
// with and without overrides, against every permission, decided from the
// database by SystemCan.
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
				ok, missing, err := access.SystemCan(ctx, st, u.ID, p)
				require.NoError(t, err)
				require.Equal(t, want, ok, p)
				if !want {
					require.Equal(t, []access.SystemPermission{p}, missing)
				}
			}
			ok, missing, err := access.SystemCan(ctx, st, u.ID, access.SystemPermissions...)
			require.NoError(t, err)
			require.Equal(t, len(tc.holds) == len(access.SystemPermissions), ok)
			require.Len(t, missing, len(access.SystemPermissions)-len(tc.holds))
		})
	}
	require.Len(t, access.SystemPermissions, 5)
}
