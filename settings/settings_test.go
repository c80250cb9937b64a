package settings_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestChangeWithoutRestart: a value written to app_config, by this process
// or another, serves within RefreshEvery, and a deleted one gives its
// default back.
func TestChangeWithoutRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	now := time.Now()
	s := settings.New(st, settings.Options{Now: func() time.Time { return now }})
	k := settings.UserCommandsPerMinute
	require.Equal(t, 30, s.Int(ctx, k), "the default")

	_, err := st.AppConfigSet(ctx, store.AppConfigSetParams{Key: k.Name, Value: "5", Category: k.Category, DataType: "number"})
	require.NoError(t, err)
	require.Equal(t, 30, s.Int(ctx, k), "read from memory until the refresh")
	now = now.Add(settings.RefreshEvery)
	require.Equal(t, 5, s.Int(ctx, k), "another replica's change counts within the refresh")

	_, err = st.AppConfigSet(ctx, store.AppConfigSetParams{Key: k.Name, Value: "7", Category: k.Category, DataType: "number"})
	require.NoError(t, err)
	s.Refresh()
	require.Equal(t, 7, s.Int(ctx, k), "this process's change counts at once")

	_, err = st.AppConfigSet(ctx, store.AppConfigSetParams{Key: k.Name, Value: "0", Category: k.Category, DataType: "number"})
	require.NoError(t, err)
	s.Refresh()
	require.Equal(t, 30, s.Int(ctx, k), "a value below the minimum gives the default")

	_, err = st.AppConfigDelete(ctx, k.Name)
	require.NoError(t, err)
	s.Refresh()
	require.Equal(t, 30, s.Int(ctx, k))
	require.Equal(t, 5*time.Minute, s.Seconds(ctx, settings.CacheTTL["nation"]))
}

func TestKeys(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range settings.All {
		require.False(t, seen[k.Name], k.Name)
		seen[k.Name] = true
		require.NoError(t, k.Check(k.Default, k.Type), "%s's default is valid", k.Name)
		require.NotEmpty(t, k.Description)
	}
	k, ok := settings.Find("cache.bank_ttl_seconds")
	require.True(t, ok)
	require.Error(t, k.Check("1.5", "number"))
	require.Error(t, k.Check("-1", "number"))
	require.Error(t, k.Check("60", "string"))
	require.NoError(t, k.Check("60", "number"))
}

// TestStrict: a limit read strictly is unknown until app_config has been
// read once, then stays known through failed reloads.
func TestStrict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	src := &flaky{Source: st, fail: true}
	now := time.Now()
	s := settings.New(src, settings.Options{Now: func() time.Time { return now }})
	k := settings.WithdrawalCap
	_, err := s.Strict(ctx, k)
	require.ErrorIs(t, err, settings.ErrUnread)
	require.Equal(t, 1_000_000_000, s.Int(ctx, k), "Int still gives the default")

	_, err = st.AppConfigSet(ctx, store.AppConfigSetParams{Key: k.Name, Value: "1000", Category: k.Category, DataType: k.Type})
	require.NoError(t, err)
	src.fail = false
	now = now.Add(settings.RefreshEvery)
	v, err := s.Strict(ctx, k)
	require.NoError(t, err)
	require.Equal(t, 1000, v)

	src.fail = true
	now = now.Add(settings.RefreshEvery)
	v, err = s.Strict(ctx, k)
	require.NoError(t, err, "a failed reload keeps the values read before")
	require.Equal(t, 1000, v)
}

type flaky struct {
	settings.Source
	fail bool
}

func (f *flaky) AppConfigList(ctx context.Context, category *string) ([]store.AppConfig, error) {
	if f.fail {
		return nil, errors.New("app_config: connection refused")
	}
	return f.Source.AppConfigList(ctx, category)
}
