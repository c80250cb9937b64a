package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/config"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestEndToEnd runs pnwbot as `pnwbot run` does, against a fake Discord
// (REST and gateway) and the fake game, on a fresh database and Redis: from
// command registration through /link, /me, /nation and /delete-account.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	discord, game := newFakes(t)
	const botKey, playerKey = "botkey00000000000000", "playerkey00000000000"
	game.AddKey(botKey, 1)
	game.AddKey(playerKey, 4242, "nation_view_resources")
	game.AddAlliance(fakepnw.Alliance{ID: 9, Name: "Rose", Acronym: "Rose", Rank: 4, Color: "purple"})
	game.AddNation(fakepnw.Nation{ID: 1, NationName: "Bot Nation", LeaderName: "Bot"})
	game.AddNation(fakepnw.Nation{ID: 4242, NationName: "Testonia", LeaderName: "Tess", AllianceID: 9, NumCities: 30, Color: "purple"})

	pub, priv := fakediscord.NewKey()
	dbURL := storetest.NewEmptyDB(t)
	_, prefix := storetest.NewRedis(t) // this run's keys, deleted afterwards
	env := map[string]string{
		config.DatabaseURL:          dbURL,
		config.RedisURL:             storetest.RedisURL(),
		config.EncryptionKey:        secrets.GenerateKey(),
		config.DiscordToken:         "Bot " + fakediscord.Token,
		config.DiscordAPIURL:        discord.URL,
		config.DiscordGuildID:       fakediscord.GuildID,
		config.DiscordPublicKey:     hex.EncodeToString(pub),
		config.PNWAPIURL:            game.URL,
		config.PNWAPIKey:            botKey,
		config.HTTPAddr:             "127.0.0.1:0",
		config.MetricsAddr:          "127.0.0.1:0",
		config.SuperAdminDiscordIDs: "200000000000000099",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, runNeeds...)
	require.NoError(t, err)

	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := start(ctx, cfg, logger, prefix, host{})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.serve(runCtx) }()
	base := "http://" + a.listener.Addr().String()

	// Registration: one bulk overwrite in the configured guild.
	var names []string
	for _, c := range discord.Commands(fakediscord.GuildID) {
		names = append(names, c.Name)
	}
	require.ElementsMatch(t, []string{"link", "unlink", "me", "preferences", "delete-account", "nation", "alliance", "bank", "admin", "war", "audit"}, names)

	send := func(i *discordgo.Interaction) *fakediscord.Reply {
		t.Helper()
		require.NoError(t, discord.SendInteraction(i))
		r, err := discord.WaitResponse(ctx, i.ID)
		require.NoError(t, err)
		return r
	}

	// /link opens the modal; submitting it links the nation.
	r := send(fakediscord.Command("/link"))
	require.Equal(t, discordgo.InteractionResponseModal, r.Type)
	require.Equal(t, "link/submit", r.CustomID)
	r = send(fakediscord.ModalSubmit("link/submit", map[string]string{"api_key": playerKey}))
	require.Equal(t, discordgo.InteractionResponseChannelMessageWithSource, r.Type)
	require.True(t, r.Ephemeral())
	require.Contains(t, r.Content, "Testonia")

	st := a.st
	u, err := st.UserGetByDiscordID(ctx, fakediscord.UserID)
	require.NoError(t, err)
	require.EqualValues(t, 4242, *u.PnwNationID)
	require.NotContains(t, string(u.PnwApiKey), playerKey)

	// /me shows the profile, privately, and never the key.
	r = send(fakediscord.Command("/me"))
	require.True(t, r.Ephemeral())
	require.Len(t, r.Embeds, 1)
	var me strings.Builder
	for _, f := range r.Embeds[0].Fields {
		me.WriteString(f.Name + ": " + f.Value + "\n")
	}
	require.Contains(t, me.String(), "Testonia")
	require.Contains(t, me.String(), "Stored encrypted")
	require.NotContains(t, me.String(), playerKey)

	// A key sealed under a master key the bot does not hold (a process still
	// running with an old ENCRYPTION_KEY wrote it) shows as unreadable on
	// /me, and is counted in /readyz and the metrics.
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	stranger, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)
	sealed, err := stranger.Seal(playerKey, u.KeySalt, secrets.NationKey(u.ID))
	require.NoError(t, err)
	_, err = st.UserReplaceKey(ctx, store.UserReplaceKeyParams{ID: u.ID, OldKey: u.PnwApiKey, NewKey: sealed})
	require.NoError(t, err)
	a.checkKeys(ctx) // as the hourly check does
	r = send(fakediscord.Command("/me"))
	me.Reset()
	for _, f := range r.Embeds[0].Fields {
		me.WriteString(f.Name + ": " + f.Value + "\n")
	}
	require.Contains(t, me.String(), "API key: Stored, but unreadable")
	require.Contains(t, get(t, base+"/readyz"), "unreadable stored keys: 1")
	require.Contains(t, get(t, "http://"+a.metricsListener.Addr().String()+"/metrics"), "pnwbot_stored_keys_unreadable 1")

	// /nation by name, publicly.
	r = send(fakediscord.Command("/nation", fakediscord.Option("nation", "Testonia")))
	require.False(t, r.Ephemeral())
	require.Equal(t, "Testonia", r.Embeds[0].Title)
	r = send(fakediscord.Autocomplete("/nation", fakediscord.Focused(fakediscord.Option("nation", "tes"))))
	require.Equal(t, discordgo.InteractionApplicationCommandAutocompleteResult, r.Type)
	require.Len(t, r.Choices, 1)

	// The same commands over the HTTP interactions endpoint, answered inline.
	body, err := fakediscord.MarshalInteraction(fakediscord.Command("/alliance/info", fakediscord.Option("alliance", "9")))
	require.NoError(t, err)
	signed := fakediscord.SignedRequest(priv, body, time.Now())
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/interactions", bytes.NewReader(body))
	require.NoError(t, err)
	post.Header = signed.Header
	resp, err := http.DefaultClient.Do(post)
	require.NoError(t, err)
	var inline discordgo.InteractionResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&inline))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "Rose (Rose)", inline.Data.Embeds[0].Title)
	post, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/interactions", bytes.NewReader(body))
	require.NoError(t, err)
	post.Header = signed.Header.Clone()
	post.Header.Set("X-Signature-Ed25519", strings.Repeat("0", 128))
	resp, err = http.DefaultClient.Do(post)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// /delete-account, then its button, removes the account.
	r = send(fakediscord.Command("/delete-account"))
	require.True(t, r.Ephemeral())
	confirm := r.Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.Button)
	r = send(fakediscord.Component(confirm.CustomID))
	require.Equal(t, discordgo.InteractionResponseUpdateMessage, r.Type)
	require.Contains(t, r.Content, "deleted")
	_, err = st.UserGetByDiscordID(ctx, fakediscord.UserID)
	require.ErrorIs(t, err, store.ErrNotFound)
	audit, err := st.AuditLogList(ctx, store.AuditLogListParams{RowLimit: 10})
	require.NoError(t, err)
	require.Equal(t, "user.delete", audit[0].Action)

	// The super admin from the configuration exists.
	admin, err := st.UserGetByDiscordID(ctx, "200000000000000099")
	require.NoError(t, err)
	level, err := st.SystemAdminGetByUser(ctx, admin.ID)
	require.NoError(t, err)
	require.Equal(t, "super_admin", level.Level)

	// Health and readiness on HTTP_ADDR, metrics on METRICS_ADDR only.
	require.Equal(t, "ok\n", get(t, base+"/healthz"))
	require.Equal(t, "ok\nunreadable stored keys: 1\n", get(t, base+"/readyz"), "PostgreSQL, Redis and the gateway are up; the count is the last check's")
	require.Equal(t, "404 page not found\n", get(t, base+"/metrics"))
	metrics := get(t, "http://"+a.metricsListener.Addr().String()+"/metrics")
	for _, want := range []string{
		`pnwbot_interactions_total{outcome="ok",route="/me",type="command"} 2`,
		`pnwbot_build_info{version="`,
		`pnwbot_gateway_connected 1`,
		`pnwbot_gateway_reconnects_total 0`,
		`pnwbot_db_pool_connections{state="acquired"}`,
	} {
		require.Contains(t, metrics, want)
	}
	require.NoError(t, healthcheck(ctx, a.listener.Addr().String()))

	// Graceful shutdown; the key never reached a log line.
	stop()
	require.NoError(t, <-served)
	require.NotContains(t, logs.String(), playerKey)
	require.NotContains(t, logs.String(), botKey)
	require.Contains(t, logs.String(), "commands registered")
}

// newFakes starts a fake Discord and a fake game, stopped when the test ends.
func newFakes(t testing.TB) (*fakediscord.Fake, *fakepnw.Server) {
	t.Helper()
	discord, err := fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(discord.Close)
	game, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(game.Close)
	return discord, game
}

// syncBuffer collects log lines written from the bot's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
