package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"pnwbot/config"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func tableCount(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var n int
	require.NoError(t, conn.QueryRow(context.Background(),
		`SELECT count(*) FROM information_schema.tables
		 WHERE table_schema = 'public' AND table_name <> 'goose_db_version' AND table_name NOT LIKE 'river\_%'`).Scan(&n))
	return n
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.NewEmptyDB(t)
	env := envOf(map[string]string{config.DatabaseURL: dbURL, config.LogLevel: "error"})

	tables := len(storetest.Tables(t))
	require.NoError(t, cli(ctx, []string{"migrate", "up"}, env))
	require.Equal(t, tables, tableCount(t, dbURL))
	require.NoError(t, cli(ctx, []string{"migrate", "reset", "--yes"}, env))
	require.Zero(t, tableCount(t, dbURL))
	require.NoError(t, cli(ctx, []string{"migrate", "up"}, env))
	require.Equal(t, tables, tableCount(t, dbURL))
	cfg, err := loadConfig(env, config.DatabaseURL)
	require.NoError(t, err)

	// Nothing pending, nothing applied, and a reset nobody confirmed: said plainly.
	var out strings.Builder
	require.NoError(t, migrate(ctx, cfg, "up", &out))
	files, err := store.MigrationNames()
	require.NoError(t, err)
	version := strings.SplitN(files[len(files)-1], "_", 2)[0]
	require.Equal(t, "already up to date (version "+strings.TrimLeft(version, "0")+")\n", out.String())
	for _, answer := range []string{"", "no\n", "y\n"} {
		out.Reset()
		err := confirmReset(cfg, strings.NewReader(answer), &out)
		require.EqualError(t, err, "reset not confirmed, nothing changed (pnwbot migrate reset --yes does not ask)")
		require.Contains(t, out.String(), "every table and all its data are deleted")
	}
	require.Equal(t, tables, tableCount(t, dbURL))
	require.NoError(t, confirmReset(cfg, strings.NewReader("yes\n"), &out))
	require.NoError(t, migrate(ctx, cfg, "reset", io.Discard))
	out.Reset()
	require.NoError(t, migrate(ctx, cfg, "down", &out))
	require.Equal(t, "nothing to roll back: no migration is applied\n", out.String())
	out.Reset()
	require.NoError(t, migrate(ctx, cfg, "reset", &out))
	require.Equal(t, "nothing to roll back: no migration is applied\n", out.String())
	require.NoError(t, migrate(ctx, cfg, "up", io.Discard))

	// What `pnwbot migrate status` prints: each migration, applied.
	var status strings.Builder
	require.NoError(t, migrate(ctx, cfg, "status", &status))
	lines := strings.Split(strings.TrimSpace(status.String()), "\n")
	require.Len(t, lines, len(files))
	for i, line := range lines {
		require.Regexp(t, `^`+regexp.QuoteMeta(files[i])+` +applied `, line)
	}

	require.ErrorContains(t, cli(ctx, []string{"migrate"}, env), "usage: pnwbot migrate up|down|status, or pnwbot migrate reset [--yes]")
	require.ErrorContains(t, cli(ctx, []string{"migrate", "up", "--yes"}, env), "usage: pnwbot migrate")
	require.ErrorContains(t, cli(ctx, []string{"migrate", "sideways"}, env), `unknown migrate command "sideways"`)
}

func TestMissingSettings(t *testing.T) {
	t.Parallel()
	err := cli(context.Background(), []string{"run"}, envOf(nil))
	for _, name := range runNeeds {
		require.ErrorContains(t, err, name+" is not set")
	}
	err = cli(context.Background(), []string{"migrate", "up"}, envOf(nil))
	require.ErrorContains(t, err, "DATABASE_URL is not set")
	require.NotContains(t, err.Error(), "DISCORD_TOKEN", "migrate needs only the database")
	require.ErrorContains(t, cli(context.Background(), []string{"frobnicate"}, envOf(nil)), `unknown command "frobnicate"`)
}

func TestRotateKeyCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	oldKey, newKey := secrets.GenerateKey(), secrets.GenerateKey()
	oldMaster, err := secrets.ParseKey(oldKey)
	require.NoError(t, err)
	oldRing, err := secrets.NewKeyring(oldMaster, nil)
	require.NoError(t, err)
	u, err := st.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: "1", KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	sealed, err := oldRing.Seal("the-key", u.KeySalt, secrets.NationKey(u.ID))
	require.NoError(t, err)
	nation := int64(5)
	_, err = st.UserLinkNation(ctx, store.UserLinkNationParams{ID: u.ID, PnwNationID: &nation, PnwApiKey: sealed})
	require.NoError(t, err)

	dbURL := st.Pool.Config().ConnString()
	err = cli(ctx, []string{"rotate-key"}, envOf(map[string]string{config.DatabaseURL: dbURL, config.EncryptionKey: newKey}))
	require.ErrorContains(t, err, "ENCRYPTION_KEY_OLD is not set")

	env := envOf(map[string]string{config.DatabaseURL: dbURL, config.EncryptionKey: newKey, config.EncryptionKeyOld: oldKey, config.LogLevel: "error"})
	require.NoError(t, cli(ctx, []string{"rotate-key"}, env))
	newMaster, err := secrets.ParseKey(newKey)
	require.NoError(t, err)
	newOnly, err := secrets.NewKeyring(newMaster, nil)
	require.NoError(t, err)
	row, err := st.UserGetByID(ctx, u.ID)
	require.NoError(t, err)
	plain, err := newOnly.Open(row.PnwApiKey, row.KeySalt, secrets.NationKey(u.ID))
	require.NoError(t, err)
	require.Equal(t, "the-key", plain)
}

// rotate-key ends by checking that every stored key opens with the new key
// alone, and names those that do not.
func TestRotateKeyReportsUnreadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	oldKey, newKey := secrets.GenerateKey(), secrets.GenerateKey()
	var users []store.User
	for i, key := range []string{oldKey, secrets.GenerateKey()} { // the second is a stranger's
		master, err := secrets.ParseKey(key)
		require.NoError(t, err)
		ring, err := secrets.NewKeyring(master, nil)
		require.NoError(t, err)
		u, err := st.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: fmt.Sprint(i + 1), KeySalt: secrets.NewSalt()})
		require.NoError(t, err)
		sealed, err := ring.Seal("the-key", u.KeySalt, secrets.NationKey(u.ID))
		require.NoError(t, err)
		nation := int64(i + 5)
		_, err = st.UserLinkNation(ctx, store.UserLinkNationParams{ID: u.ID, PnwNationID: &nation, PnwApiKey: sealed})
		require.NoError(t, err)
		users = append(users, u)
	}
	cfg, err := loadConfig(envOf(map[string]string{config.DatabaseURL: st.Pool.Config().ConnString(),
		config.EncryptionKey: newKey, config.EncryptionKeyOld: oldKey, config.LogLevel: "error"}), config.DatabaseURL)
	require.NoError(t, err)
	var out strings.Builder
	err = rotateKey(ctx, cfg, &out)
	require.ErrorContains(t, err, "1 stored keys do not open with ENCRYPTION_KEY")
	require.ErrorContains(t, err, "keep ENCRYPTION_KEY_OLD")
	require.Contains(t, out.String(), fmt.Sprintf("user %d (nation key)", users[1].ID))
	require.NotContains(t, out.String(), fmt.Sprintf("user %d (nation key)", users[0].ID))
	require.NotContains(t, out.String(), "can now be removed")
}

func TestHealthcheckWithoutServer(t *testing.T) {
	t.Parallel()
	require.ErrorContains(t, healthcheck(context.Background(), "127.0.0.1:1"), "healthcheck")
}
