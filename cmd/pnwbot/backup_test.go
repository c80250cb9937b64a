package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/config"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// TestBackupRestore makes a backup with scripts/backup.sh (what the compose
// backup service runs), restores it into a fresh database with pg_restore as
// docs/operations.md says, and reads the stored key back with the same
// ENCRYPTION_KEY, and not with another.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	keys, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)
	const apiKey = "backedupkey000000000"
	u, err := st.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: "200000000000000042", DiscordUsername: "kept", KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	sealed, err := keys.Seal(apiKey, u.KeySalt, secrets.NationKey(u.ID))
	require.NoError(t, err)
	nation := int64(4242)
	_, err = st.UserLinkNation(ctx, store.UserLinkNationParams{ID: u.ID, PnwNationID: &nation, PnwApiKey: sealed, KeyPermissions: []byte(`{}`)})
	require.NoError(t, err)

	// The backup, as the service makes it (libpq's PG* variables).
	src, err := url.Parse(st.Pool.Config().ConnString())
	require.NoError(t, err)
	dir := t.TempDir()
	backup := exec.Command("sh", "../../scripts/backup.sh")
	backup.Env = append(os.Environ(), "BACKUP_ONCE=1", "BACKUP_DIR="+dir,
		"PGHOST="+src.Hostname(), "PGPORT="+src.Port(), "PGUSER="+src.User.Username(), "PGDATABASE="+strings.TrimPrefix(src.Path, "/"))
	out, err := backup.CombinedOutput()
	require.NoError(t, err, "%s", out)
	dumps, err := filepath.Glob(filepath.Join(dir, "pnwbot-*.dump"))
	require.NoError(t, err)
	require.Len(t, dumps, 1, "%s", out)

	// The restore, into a database that never saw pnwbot.
	restoredURL := storetest.NewEmptyDB(t)
	out, err = exec.Command("pg_restore", "--no-owner", "--exit-on-error", "--dbname="+restoredURL, dumps[0]).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var status strings.Builder
	cfg, err := loadConfig(func(k string) string { return map[string]string{config.DatabaseURL: restoredURL}[k] }, config.DatabaseURL)
	require.NoError(t, err)
	require.NoError(t, migrate(ctx, cfg, "status", &status))
	require.NotContains(t, status.String(), "pending", "every migration, river's included, came back applied")
	restored, err := store.Open(ctx, restoredURL, 4)
	require.NoError(t, err)
	defer restored.Close()

	// Same ENCRYPTION_KEY: the key opens. Another: nothing does.
	back, err := restored.UserGetByDiscordID(ctx, "200000000000000042")
	require.NoError(t, err)
	got, err := keys.Open(back.PnwApiKey, back.KeySalt, secrets.NationKey(back.ID))
	require.NoError(t, err)
	require.Equal(t, apiKey, got)
	bad, err := secrets.Unreadable(ctx, kv.KeyTables(restored), keys, 100)
	require.NoError(t, err)
	require.Empty(t, bad)

	other, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	wrong, err := secrets.NewKeyring(other, nil)
	require.NoError(t, err)
	_, err = wrong.Open(back.PnwApiKey, back.KeySalt, secrets.NationKey(back.ID))
	require.Error(t, err)
	bad, err = secrets.Unreadable(ctx, kv.KeyTables(restored), wrong, 100)
	require.NoError(t, err)
	require.Len(t, bad, 1)
}
