package store_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestConstraints shows that the database itself rejects each kind of bad row.
func TestConstraints(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *store.Store {
		t.Helper()
		return storetest.NewDB(t)
	}

	t.Run("DiscordIDUnique", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		newUser(t, s, "100")

		// The upsert never conflicts, so insert directly.
		_, err := s.Pool.Exec(t.Context(), "INSERT INTO users (discord_id, key_salt) VALUES ('100', $1)", salt())
		requireViolation(t, err, codeUnique, "users_discord_id_key")
	})

	t.Run("DiscordIDFormat", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		for _, id := range []string{"", "abc", "12 34", "-1", strings.Repeat("9", 21)} {
			_, err := s.UserUpsertByDiscordID(t.Context(), store.UserUpsertByDiscordIDParams{DiscordID: id, KeySalt: salt()})
			requireViolation(t, err, codeCheck, "users_discord_id_check")
		}
		newUser(t, s, strings.Repeat("9", 20))
	})

	t.Run("KeySaltLength", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		for _, n := range []int{0, 15, 17, 32} {
			_, err := s.UserUpsertByDiscordID(t.Context(), store.UserUpsertByDiscordIDParams{DiscordID: "1", KeySalt: make([]byte, n)})
			requireViolation(t, err, codeCheck, "users_key_salt_check")
		}
	})

	t.Run("OneUserPerNation", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		a, b := newUser(t, s, "1"), newUser(t, s, "2")

		_, err := s.UserLinkNation(t.Context(), store.UserLinkNationParams{ID: a.ID, PnwNationID: ptr[int64](42)})
		require.NoError(t, err)
		_, err = s.UserLinkNation(t.Context(), store.UserLinkNationParams{ID: b.ID, PnwNationID: ptr[int64](42)})
		requireViolation(t, err, codeUnique, "users_pnw_nation_id_key")
	})

	t.Run("KeyNeedsNation", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u := newUser(t, s, "1")

		_, err := s.UserLinkNation(t.Context(), store.UserLinkNationParams{ID: u.ID, PnwApiKey: []byte("sealed")})
		requireViolation(t, err, codeCheck, "users_key_needs_nation")
	})

	t.Run("RouteSlugUnique", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		newAlliance(t, s, 1, "rose")

		_, err := s.AllianceUpsert(t.Context(), store.AllianceUpsertParams{PnwAllianceID: 2, Name: "Other", RouteSlug: "rose"})
		requireViolation(t, err, codeUnique, "alliances_route_slug_key")
	})

	t.Run("RouteSlugFormat", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		bad := []string{"", "Bad Slug", "UPPER", "a--b", "-x", "x-", "rosé", "a_b", "a/b", strings.Repeat("a", 65)}
		for i, slug := range bad {
			_, err := s.AllianceUpsert(t.Context(), store.AllianceUpsertParams{PnwAllianceID: int64(i + 1), Name: "A", RouteSlug: slug})
			requireViolation(t, err, codeCheck, "alliances_route_slug_check")
		}
		for i, slug := range []string{"rose-2", "t1", strings.Repeat("a", 64)} {
			newAlliance(t, s, int64(100+i), slug)
		}
	})

	t.Run("ManagerUniquePerAlliance", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u, a := newUser(t, s, "1"), newAlliance(t, s, 1, "rose")

		// The upsert never conflicts, so insert directly.
		const insert = "INSERT INTO alliance_managers (user_id, alliance_id, role) VALUES ($1, $2, 'viewer')"
		_, err := s.Pool.Exec(t.Context(), insert, u.ID, a.ID)
		require.NoError(t, err)
		_, err = s.Pool.Exec(t.Context(), insert, u.ID, a.ID)
		requireViolation(t, err, codeUnique, "alliance_managers_user_id_alliance_id_key")
	})

	t.Run("ManagerRole", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u, a := newUser(t, s, "1"), newAlliance(t, s, 1, "rose")

		for _, role := range []string{"", "owner", "Admin", "super_admin"} {
			_, err := s.AllianceManagerUpsert(t.Context(), store.AllianceManagerUpsertParams{
				UserID: u.ID, AllianceID: a.ID, Role: role, Permissions: []byte(`{}`),
			})
			requireViolation(t, err, codeCheck, "alliance_managers_role_check")
		}
		for _, role := range []string{"viewer", "manager", "admin"} {
			m, err := s.AllianceManagerUpsert(t.Context(), store.AllianceManagerUpsertParams{
				UserID: u.ID, AllianceID: a.ID, Role: role, Permissions: []byte(`{}`),
			})
			require.NoError(t, err)
			require.Equal(t, role, m.Role)
		}
	})

	t.Run("AdminLevel", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u := newUser(t, s, "1")

		for _, level := range []string{"", "owner", "manager", "SUPER_ADMIN"} {
			_, err := s.SystemAdminUpsert(t.Context(), store.SystemAdminUpsertParams{UserID: u.ID, Level: level, Permissions: []byte(`{}`)})
			requireViolation(t, err, codeCheck, "system_admins_level_check")
		}
		for _, level := range []string{"admin", "super_admin"} {
			_, err := s.SystemAdminUpsert(t.Context(), store.SystemAdminUpsertParams{UserID: u.ID, Level: level, Permissions: []byte(`{}`)})
			require.NoError(t, err)
		}
	})

	t.Run("ConfigDataType", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		for _, dataType := range []string{"", "int", "xml", "String"} {
			_, err := s.AppConfigSet(t.Context(), store.AppConfigSetParams{Key: "k", Value: "v", DataType: dataType})
			requireViolation(t, err, codeCheck, "app_config_data_type_check")
		}
	})

	t.Run("ConfigValueMatchesType", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		cases := []struct {
			dataType, value string
			ok              bool
		}{
			{"string", "", true},
			{"string", "anything at all", true},
			{"number", "12.5", true},
			{"number", "-3", true},
			{"number", "1e6", true},
			{"number", "abc", false},
			{"number", "", false},
			{"number", "12.", false},
			{"number", "1 2", false},
			{"number", "1e999", false}, // out of float64's range
			{"boolean", "true", true},
			{"boolean", "false", true},
			{"boolean", "yes", false},
			{"boolean", "TRUE", false},
			{"boolean", "1", false},
			{"json", `{"a":1}`, true},
			{"json", `[1,2]`, true},
			{"json", `"s"`, true},
			{"json", `{x`, false},
			{"json", ``, false},
			{"json", `"\u0000"`, false},                 // jsonb has no NUL
			{"json", strings.Repeat("[", 10000), false}, // too deep to parse
		}
		for _, c := range cases {
			_, err := s.AppConfigSet(t.Context(), store.AppConfigSetParams{
				Key: "k", Value: c.value, Category: "general", DataType: c.dataType,
			})
			if c.ok {
				require.NoError(t, err, "%s %q", c.dataType, c.value)
			} else {
				requireViolation(t, err, codeCheck, "app_config_value_matches_type")
			}
		}
	})
}
