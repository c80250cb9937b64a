package commands_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/settings"
	"pnwbot/store/kv"
)

func TestAdminConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	require.NoError(t, b.bootstrap(ctx, []string{superID}))
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

// TestRateLimitSetWithoutRestart: the bot's limiter reads the per-user
// rate from the settings, so /admin config set changes it for the running
// bot, over POST /interactions as Discord sends them.
func TestRateLimitSetWithoutRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	require.NoError(t, b.bootstrap(ctx, []string{superID}))
	discord, err := fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(discord.Close)
	rate := func(ctx context.Context) bot.Rate {
		return bot.Rate{Requests: b.deps.Settings.Int(ctx, settings.UserCommandsPerMinute), Window: time.Minute}
	}
	pub, priv := fakediscord.NewKey()
	rest, err := bot.DialREST(ctx, bot.RESTOptions{Token: fakediscord.Token, APIBaseURL: discord.URL})
	require.NoError(t, err)
	bt, err := bot.New(bot.Options{REST: rest, PublicKey: pub, Router: b.router, NoReconnect: true,
		Limiter: kv.NewPostgresLimiter(b.st, rate), DeferAfter: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = bt.Close(ctx) })
	send := func(user, path string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
		raw, err := fakediscord.MarshalInteraction(fakediscord.As(discordUser(user), fakediscord.Command(path, opts...)))
		require.NoError(t, err)
		w := httptest.NewRecorder()
		bt.InteractionsHandler().ServeHTTP(w, fakediscord.SignedRequest(priv, raw, time.Now()))
		require.Equal(t, http.StatusOK, w.Code)
		var resp discordgo.InteractionResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
		return resp.Data.Content
	}

	for range 3 {
		require.NotContains(t, send(aliceID, "/preferences"), "too fast", "the default is 30 a minute")
	}
	require.Contains(t, send(superID, "/admin/config/set", fakediscord.Option("key", settings.UserCommandsPerMinute.Name),
		fakediscord.Option("value", "3"), fakediscord.Option("type", "number")), "is now `3`")
	require.Contains(t, send(aliceID, "/preferences"), "You are sending commands too fast", "3 a minute, at once")
}
