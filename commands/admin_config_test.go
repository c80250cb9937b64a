package commands_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/settings"
)

func TestAdminConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	require.NoError(t, b.deps.BootstrapSuperAdmins(ctx, []string{superID}))
	k := settings.UserCommandsPerMinute

	t.Run("AdminsOnly", func(t *testing.T) {
		_, err := b.as(t, aliceID, "/admin/config/set", "key", k.Name, "value", "5", "type", "number")
		require.ErrorContains(t, err, "missing canManageSystem")
		require.Equal(t, "/admin/config/set", b.denials(t)[0].ResourceID)
		_, err = b.st.AppConfigGet(ctx, k.Name)
		require.Error(t, err, "nothing stored")
	})

	t.Run("SetTakesEffectWithoutRestart", func(t *testing.T) {
		require.Equal(t, 30, b.deps.Settings.Int(ctx, k))
		resp, err := b.as(t, superID, "/admin/config/set", "key", k.Name, "value", "5", "type", "number")
		require.NoError(t, err)
		require.Contains(t, resp.Content, "is now `5`")
		require.Equal(t, 5, b.deps.Settings.Int(ctx, k), "the running bot reads the new value")
		audit := b.auditActions(t)[0]
		require.Equal(t, "config.set", audit.Action)
		require.Equal(t, k.Name, audit.ResourceID)

		resp, err = b.as(t, superID, "/admin/config/get", "key", k.Name)
		require.NoError(t, err)
		text := embedText(resp.Embeds[0])
		require.Contains(t, text, "Value: `5`")
		require.Contains(t, text, "<@"+superID+">")
		require.Contains(t, text, "Default: `30`")

		resp, err = b.as(t, superID, "/admin/config/list")
		require.NoError(t, err)
		require.Contains(t, embedText(resp.Embeds[0]), "`"+k.Name+"` = **`5`** (default `30`)")
		require.Contains(t, embedText(resp.Embeds[0]), "`cache.nation_ttl_seconds` = `300`")

		_, err = b.as(t, superID, "/admin/config/delete", "key", k.Name)
		require.NoError(t, err)
		require.Equal(t, 30, b.deps.Settings.Int(ctx, k), "the default serves again")
	})

	t.Run("TypedByTheCheck", func(t *testing.T) {
		for _, tc := range []struct{ key, value, typ, want string }{
			{k.Name, "five", "number", "whole number"},
			{k.Name, "0", "number", "at least 1"},
			{k.Name, "5", "string", "is a number"},
			{"site.motd", "{oops", "json", "is not a json"},
			{"site.flag", "yes", "boolean", "is not a boolean"},
			{"Bad Key!", "1", "number", "lowercase letters"},
		} {
			_, err := b.as(t, superID, "/admin/config/set", "key", tc.key, "value", tc.value, "type", tc.typ)
			require.ErrorContains(t, err, tc.want, tc)
		}
		_, err := b.as(t, superID, "/admin/config/set", "key", "site.flag", "value", "true", "type", "boolean", "category", "site")
		require.NoError(t, err)
		row, err := b.st.AppConfigGet(ctx, "site.flag")
		require.NoError(t, err)
		require.Equal(t, "site", row.Category)
		_, err = b.as(t, superID, "/admin/config/delete", "key", "site.missing")
		require.ErrorContains(t, err, "is not stored")
	})
}
