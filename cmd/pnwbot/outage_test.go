package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/config"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store/storetest"
)

// outage is pnwbot running as `pnwbot run` does, against fakes of Discord
// and the game, on servers a test may kill, stop or freeze.
type outage struct {
	t       *testing.T
	ctx     context.Context
	a       *app
	discord *fakediscord.Fake
	logs    *syncBuffer
	users   int
}

const (
	outageBotKey    = "botkey00000000000000"
	outagePlayerKey = "playerkey00000000000"
	outageNation    = 4242
	outageOther     = 5555 // never looked up before an outage
	outageAlliance  = 9
)

// startOutage starts pnwbot on the database at dbURL and the Redis at
// redisURL ("" for none), its keys under prefix, with more settings in
// extra (name, value, ...). Nations 4242 (its key is outagePlayerKey) and
// 5555 and alliance 9 are in the game.
func startOutage(t *testing.T, dbURL, redisURL, prefix string, extra ...string) *outage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	discord, game := newFakes(t)
	game.AddKey(outageBotKey, 1)
	game.AddKey(outagePlayerKey, outageNation)
	game.AddNation(fakepnw.Nation{ID: 1, NationName: "Bot Nation", LeaderName: "Bot"})
	game.AddAlliance(fakepnw.Alliance{ID: outageAlliance, Name: "Rose", Acronym: "Rose", Rank: 4, Color: "purple"})
	game.AddNation(fakepnw.Nation{ID: outageNation, NationName: "Testonia", LeaderName: "Tess", AllianceID: outageAlliance})
	game.AddNation(fakepnw.Nation{ID: outageOther, NationName: "Otherland", LeaderName: "Otto"})
	env := map[string]string{
		config.DatabaseURL:    dbURL,
		config.RedisURL:       redisURL,
		config.EncryptionKey:  secrets.GenerateKey(),
		config.DiscordToken:   fakediscord.Token,
		config.DiscordAPIURL:  discord.URL,
		config.DiscordGuildID: fakediscord.GuildID,
		config.PNWAPIURL:      game.URL,
		config.PNWAPIKey:      outageBotKey,
		config.HTTPAddr:       "127.0.0.1:0",
		config.MetricsAddr:    "127.0.0.1:0",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, runNeeds...)
	require.NoError(t, err)
	o := &outage{t: t, ctx: ctx, discord: discord, logs: &syncBuffer{}}
	o.a, err = start(ctx, cfg, slog.New(slog.NewJSONHandler(o.logs, nil)), prefix, host{})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- o.a.serve(runCtx) }()
	t.Cleanup(func() {
		stop()
		<-served
		if t.Failed() {
			t.Logf("pnwbot logs:\n%s", o.logs)
		}
	})
	return o
}

// answer is what a user saw of one interaction.
type answer struct {
	*fakediscord.Reply
	deferred bool          // Discord showed "thinking…" first
	took     time.Duration // until the answer itself, for the test's log
}

// send sends i as user (a Discord user id) and waits for its answer.
func (o *outage) send(user string, i *discordgo.Interaction) answer {
	o.t.Helper()
	i = fakediscord.As(&discordgo.User{ID: user, Username: "user" + user}, i)
	start := time.Now()
	require.NoError(o.t, o.discord.SendInteraction(i))
	r, err := o.discord.WaitResponse(o.ctx, i.ID)
	require.NoError(o.t, err)
	a := answer{Reply: r}
	if r.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		a.deferred = true
		a.Reply, _, err = o.discord.WaitDelivery(o.ctx, i.Token)
		require.NoError(o.t, err)
	}
	a.took = time.Since(start)
	return a
}

// newUser returns a Discord user id no earlier interaction used.
func (o *outage) newUser() string {
	o.users++
	return fmt.Sprintf("2000000000000%05d", o.users)
}

// link links outageNation for user.
func (o *outage) link(user string) {
	o.t.Helper()
	r := o.send(user, fakediscord.ModalSubmit("link/submit", map[string]string{"api_key": outagePlayerKey}))
	require.Contains(o.t, r.Content, "Testonia")
}

// metric returns the line of the metrics page that starts with prefix.
func (o *outage) metric(prefix string) string {
	o.t.Helper()
	resp, err := http.Get("http://" + o.a.metricsListener.Addr().String() + "/metrics")
	require.NoError(o.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(o.t, err)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

const tooFast = "You are sending commands too fast"

// meBurst sends /me n times as user and counts the answers that were not
// refused as too fast. Each answer is the profile or the refusal, and none
// needed a deferral: each came within Discord's window.
func (o *outage) meBurst(user string, n int) (served int) {
	o.t.Helper()
	var slowest time.Duration
	deferred := 0
	for range n {
		r := o.send(user, fakediscord.Command("/me"))
		slowest = max(slowest, r.took)
		if r.deferred {
			deferred++
		}
		if !strings.HasPrefix(r.Content, tooFast) {
			require.Len(o.t, r.Embeds, 1, r.Content)
			served++
		}
	}
	o.t.Logf("%s: /me ×%d: %d served, %d deferred, slowest %v", o.t.Name(), n, served, deferred, slowest.Round(time.Millisecond))
	require.Zero(o.t, deferred, "answers that took longer than the bot waits before deferring")
	return served
}

// waitRedisInUse sends /me as new users until Redis holds their rate limit
// again: the breaker's probe found Redis back.
func (o *outage) waitRedisInUse(rdb *redis.Client) {
	o.t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		user := o.newUser()
		o.send(user, fakediscord.Command("/me"))
		if n, _ := rdb.Exists(o.ctx, redisPrefix+"ratelimit:user:"+user).Result(); n == 1 {
			require.Equal(o.t, "pnwbot_redis_breaker_state 0", o.metric("pnwbot_redis_breaker_state"))
			return
		}
		select {
		case <-o.ctx.Done():
			o.t.Fatal("Redis not in use again")
		case <-tick.C:
		}
	}
}

// A Redis outage costs nothing but speed: killed or frozen, /me answers
// within Discord's window, the limit of 30 a minute holds (30 of 40), and
// once Redis is back it is used again.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ fail, recover func(*storetest.Server) }{
		"Killed": {(*storetest.Server).Kill, (*storetest.Server).Start},
		"Frozen": {(*storetest.Server).Freeze, (*storetest.Server).Thaw},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := storetest.StartRedis(t)
			o := startOutage(t, storetest.NewEmptyDB(t), srv.RedisURL(), redisPrefix)
			user := o.newUser()
			o.link(user)
			require.Equal(t, 1, o.meBurst(user, 1))

			c.fail(srv)
			// At most 30 of 40; the two requests above count too when a
			// slow moment sent them to PostgreSQL.
			served := o.meBurst(user, 40)
			require.LessOrEqual(t, served, 30)
			require.GreaterOrEqual(t, served, 28)
			require.Equal(t, "pnwbot_redis_breaker_state 2", o.metric("pnwbot_redis_breaker_state"))

			c.recover(srv)
			opts, err := redis.ParseURL(srv.RedisURL())
			require.NoError(t, err)
			rdb := redis.NewClient(opts)
			defer rdb.Close()
			o.waitRedisInUse(rdb)
		})
	}
}

// A PostgreSQL outage costs only what needs it: stopped or frozen, with
// Redis or without, /nation and /alliance info of a given nation or alliance
// still answer (cached or fresh from the game), what needs the database
// says so privately, every answer comes within Discord's window, and once
// PostgreSQL is back everything works again.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	type fault struct{ fail, recover func(*storetest.Server) }
	faults := map[string]fault{
		"Stopped": {(*storetest.Server).Stop, (*storetest.Server).Start},
		"Frozen":  {(*storetest.Server).Freeze, (*storetest.Server).Thaw},
	}
	for name, c := range faults {
		for _, withRedis := range []bool{true, false} {
			name := name + map[bool]string{true: "WithRedis", false: "WithoutRedis"}[withRedis]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				srv := storetest.StartPostgres(t)
				redisURL, prefix := "", redisPrefix
				if withRedis {
					_, prefix = storetest.NewRedis(t)
					redisURL = storetest.RedisURL()
				}
				o := startOutage(t, srv.NewDB(t).Pool.Config().ConnString(), redisURL, prefix)
				user := o.newUser()
				o.link(user)
				nation := func(id int) *discordgo.Interaction {
					return fakediscord.Command("/nation", fakediscord.Option("nation", fmt.Sprint(id)))
				}
				require.Equal(t, "Testonia", o.send(user, nation(outageNation)).Embeds[0].Title)

				down := "The database is unavailable right now, so this cannot be done. Try again shortly."
				c.fail(srv)
				// The first request finds the database gone, and may pay
				// each deadline once; the breaker spares the others.
				first := o.send(user, fakediscord.Command("/me"))
				require.Equal(t, down, first.Content)
				t.Logf("%s: first /me after the failure: %v (deferred: %v)", t.Name(), first.took.Round(time.Millisecond), first.deferred)
				var slowest time.Duration
				check := func(i *discordgo.Interaction, want string, private bool) {
					t.Helper()
					r := o.send(user, i)
					slowest = max(slowest, r.took)
					require.False(t, r.deferred, "the answer took longer than the bot waits before deferring")
					require.Equal(t, private, r.Ephemeral())
					if len(r.Embeds) > 0 {
						require.Equal(t, want, r.Embeds[0].Title)
					} else {
						require.Equal(t, want, r.Content)
					}
				}
				for range 3 {
					check(nation(outageNation), "Testonia", false)
					check(nation(outageOther), "Otherland", false)
					check(fakediscord.Command("/alliance/info", fakediscord.Option("alliance", fmt.Sprint(outageAlliance))), "Rose (Rose)", false)
					check(fakediscord.Command("/me"), down, true)
					check(fakediscord.Command("/nation"), down, true)
				}
				t.Logf("%s: slowest answer with PostgreSQL down: %v", t.Name(), slowest.Round(time.Millisecond))
				require.NotContains(t, o.logs.String(), `"interaction failed"`)

				// Back: new users (with rate limits of their own) ask until
				// the breaker's probe has found it; then the profile shows.
				c.recover(srv)
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for o.send(o.newUser(), fakediscord.Command("/me")).Content == down {
					select {
					case <-o.ctx.Done():
						t.Fatal("PostgreSQL is back, the bot does not use it")
					case <-tick.C:
					}
				}
				require.Equal(t, "Your pnwbot profile", o.send(user, fakediscord.Command("/me")).Embeds[0].Title)
			})
		}
	}
}
