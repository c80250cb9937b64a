package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/config"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// replicaEnv is the environment of a replica serving HTTP interactions only,
// on dbURL and redisURL, against the fakes.
func replicaEnv(discord *fakediscord.Fake, game *fakepnw.Server, pub []byte, dbURL, redisURL, encryptionKey string) map[string]string {
	return map[string]string{
		config.DatabaseURL:      dbURL,
		config.RedisURL:         redisURL,
		config.EncryptionKey:    encryptionKey,
		config.DiscordToken:     fakediscord.Token,
		config.DiscordAPIURL:    discord.URL,
		config.DiscordGuildID:   fakediscord.GuildID,
		config.DiscordPublicKey: hex.EncodeToString(pub),
		config.DiscordGateway:   "off",
		config.PNWAPIURL:        game.URL,
		config.PNWAPIKey:        "botkey00000000000000",
		config.HTTPAddr:         "127.0.0.1:0",
		config.MetricsAddr:      "127.0.0.1:0",
	}
}

// replicaWorld adds to the fake game the bot's key, a player and an alliance.
func replicaWorld(game *fakepnw.Server) {
	game.AddKey("botkey00000000000000", 1)
	game.AddNation(fakepnw.Nation{ID: 1, NationName: "Bot Nation", LeaderName: "Bot"})
	game.AddAlliance(fakepnw.Alliance{ID: 9, Name: "Rose", Acronym: "Rose", Rank: 4, Color: "purple"})
	game.AddKey(playerKey, 4242, "nation_view_resources")
	game.AddNation(fakepnw.Nation{ID: 4242, NationName: "Testonia", LeaderName: "Tess", AllianceID: 9, NumCities: 30, Color: "purple"})
}

const playerKey = "playerkey00000000000"

// TestTwoReplicas runs two replicas of the binary on one PostgreSQL and one
// Redis, HTTP interactions only: one registers the commands, interactions
// are served by either, a replayed interaction and a double confirmation
// sent to both take effect once, and each periodic pass runs once.
func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	discord, game := newFakes(t)
	replicaWorld(game)
	pub, priv := fakediscord.NewKey()
	dbURL := storetest.NewEmptyDB(t)
	env := replicaEnv(discord, game, pub, dbURL, redisDB(t, 11), secrets.GenerateKey())
	bindAlliance := withdrawalWorld(game, env)

	// Started together: they migrate and register one at a time.
	started := make(chan *process, 2)
	for range 2 {
		go func() { started <- startProcess(t, env) }()
	}
	a, b := <-started, <-started
	require.Equal(t, 1, discord.Registrations(), "one replica registered the commands")
	require.NotEmpty(t, discord.Commands(fakediscord.GuildID))
	require.Nil(t, discord.Identify(), "no gateway session")
	require.Equal(t, "ok\nunreadable stored keys: 0\n", get(t, a.base+"/readyz"), "ready without a gateway")

	// Interactions spread over both: the link made on one is seen by the other.
	status, r := post(t, a.base, priv, fakediscord.ModalSubmit("link/submit", map[string]string{"api_key": playerKey}))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, r.Data.Content, "Testonia")
	status, r = post(t, b.base, priv, fakediscord.Command("/me"))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, r.Data.Embeds[0].Fields[0].Value, "Testonia")
	status, r = post(t, a.base, priv, fakediscord.Command("/nation", fakediscord.Option("nation", "Testonia")))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Testonia", r.Data.Embeds[0].Title)

	// An interaction replayed on the other replica: refused there. The
	// replicas share the ids in Redis; one whose Redis breaker is open (Redis
	// too slow under load) claims in PostgreSQL instead, and a replay across
	// that switch may be handled again, as the README says. A pair where
	// either replica fell back proves nothing either way, so another is sent.
	for try := 1; ; try++ {
		fellBack := claimFallbacks(t, a) + claimFallbacks(t, b)
		info := fakediscord.Command("/alliance/info", fakediscord.Option("alliance", "9"))
		status, _ = post(t, b.base, priv, info)
		require.Equal(t, http.StatusOK, status)
		status, _ = post(t, a.base, priv, info)
		if claimFallbacks(t, a)+claimFallbacks(t, b) == fellBack {
			require.Equal(t, http.StatusConflict, status, "both ids claimed in Redis")
			break
		}
		require.Less(t, try, 20, "Redis failed over at every try")
	}

	// A double click on "delete my account", one click on each replica.
	status, r = post(t, a.base, priv, fakediscord.Command("/delete-account"))
	require.Equal(t, http.StatusOK, status)
	confirm := r.Data.Components[0].Components[0].CustomID
	clicks := make(chan int, 2)
	for _, p := range []*process{a, b} {
		go func() {
			status, _ := post(t, p.base, priv, fakediscord.Component(confirm))
			clicks <- status
		}()
	}
	require.Equal(t, http.StatusOK, <-clicks)
	require.Equal(t, http.StatusOK, <-clicks)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	var deletions int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_logs WHERE action = 'user.delete'`).Scan(&deletions))
	require.Equal(t, 1, deletions)

	// A withdrawal confirmed twice at once, on each replica: sent once.
	status, _ = post(t, a.base, priv, fakediscord.ModalSubmit("link/submit", map[string]string{"api_key": playerKey}))
	require.Equal(t, http.StatusOK, status)
	bindAlliance(t, a.base, priv)
	confirm = askWithdrawal(t, b.base, priv)
	confirmed := make(chan string, 2)
	for _, p := range []*process{a, b} {
		go func() {
			_, r := post(t, p.base, priv, fakediscord.Component(confirm))
			confirmed <- r.text()
		}()
	}
	for range 2 {
		require.Regexp(t, `(?m)^(Sent|It is being sent)`, <-confirmed)
	}
	require.Equal(t, 1, game.RequestsFor("bankWithdraw"))
	require.Equal(t, 1_000_000.0-700, game.Alliance(9).Bank[pnw.Money])

	// Each pass ran once, on one of them.
	passes := regexp.MustCompile(`(?m)^pnwbot_jobs_total\{job="(\w+)",outcome="ok"\} (\d+)$`)
	ran := func() map[string]int {
		n := map[string]int{}
		for _, p := range []*process{a, b} {
			for _, m := range passes.FindAllStringSubmatch(get(t, p.metrics), -1) {
				c, _ := strconv.Atoi(m[2])
				n[m[1]] += c
			}
		}
		return n
	}
	want := map[string]int{"retention": 1, "key_check": 1, "withdrawals_settle": 1, "role_sync": 1, "war_poll": 1, "audit": 1, "bank_ingest": 1}
	require.Eventually(t, func() bool { return len(ran()) == len(want) }, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, want, ran())
	rows, err := pool.Query(ctx, `SELECT args->>'name', count(*)::int FROM river_job WHERE kind = 'pass' GROUP BY 1`)
	require.NoError(t, err)
	inserted, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kv struct {
		name string
		n    int
	}, err error) {
		return kv, r.Scan(&kv.name, &kv.n)
	})
	require.NoError(t, err)
	require.Len(t, inserted, len(want))
	for _, kv := range inserted {
		require.Equal(t, 1, kv.n, "one %s job, whichever replica leads", kv.name)
	}

	// A replica that goes leaves the other serving.
	require.Equal(t, 0, a.stop(t))
	status, _ = post(t, b.base, priv, fakediscord.Command("/nation", fakediscord.Option("nation", "Testonia")))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 0, b.stop(t))
}

var claimFallback = regexp.MustCompile(`(?m)^pnwbot_store_fallbacks_total\{store="postgres",use="interaction_ids"\} (\d+)$`)

// claimFallbacks is how many interaction ids p claimed in PostgreSQL because
// Redis failed or its breaker was open.
func claimFallbacks(t *testing.T, p *process) int {
	t.Helper()
	m := claimFallback.FindStringSubmatch(get(t, p.metrics))
	if m == nil {
		return 0 // none yet: the counter shows from its first
	}
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

// withdrawalWorld makes the player Rose's leader with a bank, the game's bot
// key known to the game and to env, and, once binding runs (the leader's
// /alliance setup done on base), the player's own key linked as the
// alliance key that may withdraw. It returns binding.
func withdrawalWorld(game *fakepnw.Server, env map[string]string) func(t *testing.T, base string, priv ed25519.PrivateKey) {
	const gameBotKey = "gamebotkey0000000000"
	game.AddKey(playerKey, 4242, "nation_view_resources", "alliance_view_bank", "alliance_withdraw_bank")
	game.AddNation(fakepnw.Nation{ID: 4242, NationName: "Testonia", LeaderName: "Tess", AllianceID: 9, AlliancePosition: "LEADER", NumCities: 30})
	game.AddAlliance(fakepnw.Alliance{ID: 9, Name: "Rose", Acronym: "Rose", Rank: 4, Color: "purple", Bank: pnw.Amounts{pnw.Money: 1_000_000}})
	game.SetBotKey(gameBotKey)
	env[config.PNWBotKey] = gameBotKey
	return func(t *testing.T, base string, priv ed25519.PrivateKey) {
		t.Helper()
		ctx := context.Background()
		status, _ := post(t, base, priv, fakediscord.WithPermissions(fakediscord.Command("/alliance/setup"), discordgo.PermissionManageGuild))
		require.Equal(t, http.StatusOK, status)
		st, err := store.Open(ctx, env[config.DatabaseURL], 4)
		require.NoError(t, err)
		defer st.Close()
		master, err := secrets.ParseKey(env[config.EncryptionKey])
		require.NoError(t, err)
		keys, err := secrets.NewKeyring(master, nil)
		require.NoError(t, err)
		u, err := st.UserGetByDiscordID(ctx, fakediscord.UserID)
		require.NoError(t, err)
		a, err := st.AllianceGetByPnwID(ctx, 9)
		require.NoError(t, err)
		m, err := st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: a.ID})
		require.NoError(t, err)
		storetest.SetAllianceKey(t, st, keys, u, m, playerKey, "alliance_view_bank", "alliance_withdraw_bank")
	}
}

// askWithdrawal asks base for $700 to the player's nation and returns the
// Confirm button's custom id.
func askWithdrawal(t *testing.T, base string, priv ed25519.PrivateKey) string {
	t.Helper()
	status, r := post(t, base, priv, fakediscord.Command("/alliance/withdraw",
		fakediscord.Option("recipient", "4242"), fakediscord.Option("money", 700.0)))
	require.Equal(t, http.StatusOK, status)
	require.NotEmpty(t, r.Data.Components, "%s", r.text())
	return r.Data.Components[0].Components[0].CustomID
}
