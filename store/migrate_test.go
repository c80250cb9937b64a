package store_test

import (
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"pnwbot/migrations"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestMigrate(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *pgxpool.Pool {
		t.Helper()
		pool, err := pgxpool.New(t.Context(), storetest.NewEmptyDB(t))
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		return pool
	}

	// schema lists the application's tables and functions, leaving out goose's
	// own bookkeeping table.
	schema := func(t *testing.T, pool *pgxpool.Pool) (tables []string, functions int) {
		t.Helper()
		rows, err := pool.Query(t.Context(), `
			SELECT table_name::text FROM information_schema.tables
			WHERE table_schema = 'public' AND table_name <> 'goose_db_version'
			ORDER BY table_name`)
		require.NoError(t, err)
		for rows.Next() {
			var name string
			require.NoError(t, rows.Scan(&name))
			tables = append(tables, name)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, pool.QueryRow(t.Context(), `
			SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname = 'public'`).Scan(&functions))
		return tables, functions
	}

	// The seed's tables; later migrations may add more.
	seedTables := []string{
		"alliance_managers", "alliances", "api_usage_logs", "app_config", "audit_logs",
		"pnw_data_cache", "rate_limits", "system_admins", "user_sessions", "users",
	}

	t.Run("UpResetUp", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)
		ctx := t.Context()

		require.NoError(t, store.Migrate(ctx, pool, "up"))
		upTables, upFunctions := schema(t, pool)
		require.Subset(t, upTables, seedTables)
		require.NotZero(t, upFunctions)

		require.NoError(t, store.Migrate(ctx, pool, "reset"))
		tables, functions := schema(t, pool)
		require.Empty(t, tables)
		require.Zero(t, functions)

		require.NoError(t, store.Migrate(ctx, pool, "up"))
		tables, functions = schema(t, pool)
		require.Equal(t, upTables, tables)
		require.Equal(t, upFunctions, functions)
		// The schema works after the round trip, not just exists.
		_, err := store.Wrap(pool).UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{
			DiscordID: "1", KeySalt: salt(),
		})
		require.NoError(t, err)
	})

	t.Run("UpTwiceIsANoOp", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)

		require.NoError(t, store.Migrate(t.Context(), pool, "up"))
		want, _ := schema(t, pool)
		require.NoError(t, store.Migrate(t.Context(), pool, "up"))
		got, _ := schema(t, pool)
		require.Equal(t, want, got)
		require.Subset(t, got, seedTables)
	})

	t.Run("DownOneAtATime", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)
		ctx := t.Context()

		files, err := fs.Glob(migrations.FS, "*.sql")
		require.NoError(t, err)
		require.NotEmpty(t, files)

		require.NoError(t, store.Migrate(ctx, pool, "up"))
		for range files {
			require.NoError(t, store.Migrate(ctx, pool, "down"))
		}
		tables, functions := schema(t, pool)
		require.Empty(t, tables)
		require.Zero(t, functions)
	})

	t.Run("Status", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)

		require.NoError(t, store.Migrate(t.Context(), pool, "status"))
		require.NoError(t, store.Migrate(t.Context(), pool, "up"))
		require.NoError(t, store.Migrate(t.Context(), pool, "status"))
	})

	t.Run("UnknownCommand", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)

		err := store.Migrate(t.Context(), pool, "sideways")
		require.ErrorContains(t, err, `unknown migrate command "sideways"`)
	})
}
