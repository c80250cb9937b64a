package store_test

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

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
	// own bookkeeping table and the job queue's (riverTables).
	schema := func(t *testing.T, pool *pgxpool.Pool) (tables []string, functions int) {
		t.Helper()
		rows, err := pool.Query(t.Context(), `
			SELECT table_name::text FROM information_schema.tables
			WHERE table_schema = 'public' AND table_name <> 'goose_db_version' AND table_name NOT LIKE 'river\_%'
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

	// riverTables counts the job queue's tables.
	riverTables := func(t *testing.T, pool *pgxpool.Pool) (n int) {
		t.Helper()
		require.NoError(t, pool.QueryRow(t.Context(), `
			SELECT count(*) FROM information_schema.tables
			WHERE table_schema = 'public' AND table_name LIKE 'river\_%'`).Scan(&n))
		return n
	}

	want := storetest.Tables(t)
	migrate := func(t *testing.T, pool *pgxpool.Pool, command string) string {
		t.Helper()
		var out strings.Builder
		require.NoError(t, store.Migrate(t.Context(), pool, command, &out))
		return out.String()
	}
	files, err := store.MigrationNames()
	require.NoError(t, err)
	require.NotEmpty(t, files)

	t.Run("UpResetUp", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)

		migrate(t, pool, "up")
		upTables, upFunctions := schema(t, pool)
		require.Equal(t, want, upTables)
		require.NotZero(t, upFunctions)

		require.NotZero(t, riverTables(t, pool), "river's migrations ran with goose's")

		migrate(t, pool, "reset")
		tables, functions := schema(t, pool)
		require.Empty(t, tables)
		require.Zero(t, functions)
		require.Zero(t, riverTables(t, pool))

		migrate(t, pool, "up")
		tables, functions = schema(t, pool)
		require.Equal(t, upTables, tables)
		require.Equal(t, upFunctions, functions)
		// The schema works after the round trip, not just exists.
		_, err := store.Wrap(pool).UserUpsertByDiscordID(t.Context(), store.UserUpsertByDiscordIDParams{
			DiscordID: "1", KeySalt: salt(),
		})
		require.NoError(t, err)
	})

	t.Run("UpTwiceIsANoOp", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)

		require.Len(t, strings.Split(strings.TrimSpace(migrate(t, pool, "up")), "\n"), len(files))
		require.Regexp(t, `^already up to date \(version [0-9]+\)\n$`, migrate(t, pool, "up"), "nothing left to apply")
		got, _ := schema(t, pool)
		require.Equal(t, want, got)
	})

	t.Run("DownOneAtATime", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)

		migrate(t, pool, "up")
		for i := range files {
			out := migrate(t, pool, "down")
			require.Contains(t, out, files[len(files)-1-i], "the latest goes first")
		}
		tables, functions := schema(t, pool)
		require.Empty(t, tables)
		require.Zero(t, functions)
	})

	t.Run("Status", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)

		status := func() []string {
			return strings.Split(strings.TrimSpace(migrate(t, pool, "status")), "\n")
		}
		lines := status()
		require.Len(t, lines, len(files))
		for i, line := range lines {
			require.Regexp(t, `^`+regexp.QuoteMeta(files[i])+` +pending$`, line)
		}
		migrate(t, pool, "up")
		lines = status()
		require.Len(t, lines, len(files))
		for i, line := range lines {
			require.Regexp(t, `^`+regexp.QuoteMeta(files[i])+` +applied \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, line)
		}
	})

	t.Run("UnknownCommand", func(t *testing.T) {
		t.Parallel()
		pool := setup(t)

		err := store.Migrate(t.Context(), pool, "sideways", io.Discard)
		require.ErrorContains(t, err, `unknown migrate command "sideways"`)
	})
}
