package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestAlliances(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *store.Store {
		t.Helper()
		return storetest.NewDB(t)
	}

	t.Run("GetByIDSlugGuild", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		a := newAlliance(t, s, 10, "rose")
		newAlliance(t, s, 11, "grumpy")
		a, err := s.AllianceSetGuild(t.Context(), store.AllianceSetGuildParams{ID: a.ID, DiscordGuildID: ptr("123456")})
		require.NoError(t, err)

		byID, err := s.AllianceGetByID(t.Context(), a.ID)
		require.NoError(t, err)
		bySlug, err := s.AllianceGetBySlug(t.Context(), "rose")
		require.NoError(t, err)
		byGuild, err := s.AllianceGetByGuild(t.Context(), ptr("123456"))
		require.NoError(t, err)
		byPnw, err := s.AllianceGetByPnwID(t.Context(), 10)
		require.NoError(t, err)
		for _, got := range []store.Alliance{byID, bySlug, byGuild, byPnw} {
			require.Equal(t, a.ID, got.ID)
			require.Equal(t, "rose", got.RouteSlug)
			require.Equal(t, ptr("123456"), got.DiscordGuildID)
		}

		_, err = s.AllianceGetBySlug(t.Context(), "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.AllianceGetByGuild(t.Context(), ptr("999"))
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.AllianceGetByID(t.Context(), 999)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("OneAlliancePerGuild", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		a, b := newAlliance(t, s, 10, "rose"), newAlliance(t, s, 11, "grumpy")
		_, err := s.AllianceSetGuild(t.Context(), store.AllianceSetGuildParams{ID: a.ID, DiscordGuildID: ptr("123")})
		require.NoError(t, err)

		_, err = s.AllianceSetGuild(t.Context(), store.AllianceSetGuildParams{ID: b.ID, DiscordGuildID: ptr("123")})
		requireViolation(t, err, codeUnique, "alliances_discord_guild_id_key")
	})

	t.Run("UpsertRefreshesStatsKeepsSlug", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		first := newAlliance(t, s, 10, "rose")

		again, err := s.AllianceUpsert(t.Context(), store.AllianceUpsertParams{
			PnwAllianceID: 10, Name: "Rose", Acronym: "R", RouteSlug: "other", MemberCount: ptr[int32](80), Score: ptr(1234.5),
		})
		require.NoError(t, err)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, "rose", again.RouteSlug)
		require.Equal(t, "Rose", again.Name)
		require.Equal(t, ptr[int32](80), again.MemberCount)
		require.Equal(t, ptr(1234.5), again.Score)
	})

	t.Run("UpdateSettings", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		a := newAlliance(t, s, 10, "rose")

		_, err := s.AllianceUpdateSettings(t.Context(), store.AllianceUpdateSettingsParams{ID: a.ID, Settings: []byte(`{"taxes":true}`), IsPublic: true})
		require.NoError(t, err)
		got, err := s.AllianceGetByID(t.Context(), a.ID)
		require.NoError(t, err)
		require.True(t, got.IsPublic)
		require.JSONEq(t, `{"taxes":true}`, string(got.Settings))
	})
}

func TestManagers(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		admin, manager, viewer store.User
		rose, grumpy           store.Alliance
	}

	setup := func(t *testing.T) (*store.Store, *testBundle) {
		t.Helper()
		s := storetest.NewDB(t)
		return s, &testBundle{
			admin: newUser(t, s, "1"), manager: newUser(t, s, "2"), viewer: newUser(t, s, "3"),
			rose: newAlliance(t, s, 10, "rose"), grumpy: newAlliance(t, s, 11, "grumpy"),
		}
	}

	assign := func(t *testing.T, s *store.Store, u store.User, a store.Alliance, role string) store.AllianceManager {
		t.Helper()
		m, err := s.AllianceManagerUpsert(t.Context(), store.AllianceManagerUpsertParams{
			UserID: u.ID, AllianceID: a.ID, Role: role, Permissions: []byte(`{"canViewBank":true}`),
		})
		require.NoError(t, err)
		return m
	}

	t.Run("ByUser", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)
		assign(t, s, b.manager, b.rose, "manager")
		assign(t, s, b.manager, b.grumpy, "viewer")
		assign(t, s, b.admin, b.rose, "admin")

		rows, err := s.AllianceManagerListByUser(t.Context(), b.manager.ID)
		require.NoError(t, err)
		require.Len(t, rows, 2)
		// Ordered by alliance name.
		require.Equal(t, "Alliance grumpy", rows[0].AllianceName)
		require.Equal(t, "viewer", rows[0].AllianceManager.Role)
		require.Equal(t, "Alliance rose", rows[1].AllianceName)
		require.Equal(t, int64(10), rows[1].PnwAllianceID)
		require.Equal(t, "manager", rows[1].AllianceManager.Role)
		require.JSONEq(t, `{"canViewBank":true}`, string(rows[1].AllianceManager.Permissions))
	})

	t.Run("ByAllianceHighestRoleFirst", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)
		assign(t, s, b.viewer, b.rose, "viewer")
		assign(t, s, b.manager, b.rose, "manager")
		assign(t, s, b.admin, b.rose, "admin")
		assign(t, s, b.admin, b.grumpy, "admin")

		rows, err := s.AllianceManagerListByAlliance(t.Context(), b.rose.ID)
		require.NoError(t, err)
		var roles, discordIDs []string
		for _, r := range rows {
			roles = append(roles, r.AllianceManager.Role)
			discordIDs = append(discordIDs, r.DiscordID)
		}
		require.Equal(t, []string{"admin", "manager", "viewer"}, roles)
		require.Equal(t, []string{"1", "2", "3"}, discordIDs)
	})

	t.Run("ActiveOnly", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)
		m := assign(t, s, b.manager, b.rose, "manager")
		_, err := s.AllianceManagerSetKey(t.Context(), store.AllianceManagerSetKeyParams{ID: m.ID, ManagerApiKey: []byte("sealed")})
		require.NoError(t, err)
		assign(t, s, b.viewer, b.rose, "viewer")

		n, err := s.AllianceManagerDeactivate(t.Context(), store.AllianceManagerDeactivateParams{UserID: b.manager.ID, AllianceID: b.rose.ID})
		require.NoError(t, err)
		require.EqualValues(t, 1, n)

		byAlliance, err := s.AllianceManagerListByAlliance(t.Context(), b.rose.ID)
		require.NoError(t, err)
		require.Len(t, byAlliance, 1)
		require.Equal(t, b.viewer.ID, byAlliance[0].AllianceManager.UserID)
		byUser, err := s.AllianceManagerListByUser(t.Context(), b.manager.ID)
		require.NoError(t, err)
		require.Empty(t, byUser)
		_, err = s.AllianceManagerGet(t.Context(), store.AllianceManagerGetParams{UserID: b.manager.ID, AllianceID: b.rose.ID})
		require.ErrorIs(t, err, store.ErrNotFound)
		// A deactivated manager's key is dropped, not kept around.
		require.Zero(t, count(t, s, "alliance_managers WHERE manager_api_key IS NOT NULL"))

		// Assigning again reactivates the same row.
		again := assign(t, s, b.manager, b.rose, "viewer")
		require.Equal(t, m.ID, again.ID)
		require.True(t, again.IsActive)
	})

	t.Run("ReplaceKeyCompareAndSwap", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)
		m := assign(t, s, b.manager, b.rose, "manager")
		_, err := s.AllianceManagerSetKey(t.Context(), store.AllianceManagerSetKeyParams{ID: m.ID, ManagerApiKey: []byte("v1")})
		require.NoError(t, err)

		n, err := s.AllianceManagerReplaceKey(t.Context(), store.AllianceManagerReplaceKeyParams{ID: m.ID, OldKey: []byte("stale"), NewKey: []byte("v2")})
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = s.AllianceManagerReplaceKey(t.Context(), store.AllianceManagerReplaceKeyParams{ID: m.ID, OldKey: []byte("v1"), NewKey: []byte("v2")})
		require.NoError(t, err)
		require.EqualValues(t, 1, n)

		keys, err := s.AllianceManagerListKeys(t.Context(), store.AllianceManagerListKeysParams{RowLimit: 10})
		require.NoError(t, err)
		require.Len(t, keys, 1)
		require.Equal(t, []byte("v2"), keys[0].ManagerApiKey)
		require.Equal(t, b.manager.KeySalt, keys[0].KeySalt)
	})
}

func TestAdmins(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *store.Store {
		t.Helper()
		return storetest.NewDB(t)
	}

	t.Run("ListAndRevoke", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		a, b, c := newUser(t, s, "1"), newUser(t, s, "2"), newUser(t, s, "3")
		for _, g := range []struct {
			user  store.User
			level string
		}{{a, "admin"}, {b, "super_admin"}, {c, "admin"}} {
			_, err := s.SystemAdminUpsert(t.Context(), store.SystemAdminUpsertParams{UserID: g.user.ID, Level: g.level, Permissions: []byte(`{}`), GrantedBy: &b.ID})
			require.NoError(t, err)
		}

		rows, err := s.SystemAdminList(t.Context())
		require.NoError(t, err)
		var got []string
		for _, r := range rows {
			got = append(got, r.DiscordID+":"+r.SystemAdmin.Level)
		}
		require.Equal(t, []string{"2:super_admin", "1:admin", "3:admin"}, got)

		n, err := s.SystemAdminDelete(t.Context(), c.ID)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		_, err = s.SystemAdminGetByUser(t.Context(), c.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		admin, err := s.SystemAdminGetByUser(t.Context(), a.ID)
		require.NoError(t, err)
		require.Equal(t, &b.ID, admin.GrantedBy)
	})
}
