package settings_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/audit"
	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestChanges: /admin config's writes refuse what a setting cannot be,
// count at once here, and are audited; a delete gives the default back.
func TestChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	u, err := st.UserCreate(ctx, store.UserCreateParams{DiscordID: "1", DiscordUsername: "admin", KeySalt: []byte("0123456789abcdef")})
	require.NoError(t, err)
	now := time.Now()
	s := settings.New(st, settings.Options{Now: func() time.Time { return now }}) // only Changes makes it read again
	c := settings.Changes{Log: audit.Log{Store: st}, Settings: s}
	k := settings.UserCommandsPerMinute

	var invalid *settings.Invalid
	require.ErrorAs(t, c.Set(ctx, u.ID, k.Name, "0", "number", ""), &invalid, "below its minimum")
	require.ErrorAs(t, c.Set(ctx, u.ID, k.Name, "5", "string", ""), &invalid, "not its type")
	require.ErrorIs(t, c.Set(ctx, u.ID, "some.flag", "maybe", "boolean", ""), settings.ErrNotOfType)
	require.Equal(t, 30, s.Int(ctx, k))

	require.NoError(t, c.Set(ctx, u.ID, k.Name, "5", "number", ""))
	require.Equal(t, 5, s.Int(ctx, k), "at once")
	row, err := st.AppConfigGet(ctx, k.Name)
	require.NoError(t, err)
	require.Equal(t, k.Category, row.Category, "a known setting keeps its category")

	require.NoError(t, c.Delete(ctx, u.ID, k.Name))
	require.Equal(t, 30, s.Int(ctx, k), "the default, at once")
	require.ErrorIs(t, c.Delete(ctx, u.ID, k.Name), store.ErrNotFound)

	var actions []string
	require.NoError(t, st.Pool.QueryRow(ctx, "SELECT array_agg(action ORDER BY id) FROM audit_logs").Scan(&actions))
	require.Equal(t, []string{"config.set", "config.delete"}, actions)
}
