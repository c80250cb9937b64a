package main

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store/storetest"
)

// faultBundle is one replica of the binary against the fakes, with a linked
// player, for a fault test to break something under.
type faultBundle struct {
	discord *fakediscord.Fake
	game    *fakepnw.Server
	priv    ed25519.PrivateKey
	p       *process
}

// startFaultReplica starts the replica after prepare, when given, changed
// the fake game and the environment.
func startFaultReplica(t *testing.T, dbURL, redisURL string, prepare ...func(*fakepnw.Server, map[string]string)) *faultBundle {
	t.Helper()
	discord, game := newFakes(t)
	replicaWorld(game)
	pub, priv := fakediscord.NewKey()
	b := &faultBundle{discord: discord, game: game, priv: priv}
	env := replicaEnv(discord, game, pub, dbURL, redisURL, secrets.GenerateKey())
	for _, p := range prepare {
		p(game, env)
	}
	b.p = startProcess(t, env)
	status, r := b.post(t, fakediscord.ModalSubmit("link/submit", map[string]string{"api_key": playerKey}))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, r.Data.Content, "Testonia")
	return b
}

func (b *faultBundle) post(t *testing.T, i *discordgo.Interaction) (int, *reply) {
	t.Helper()
	return post(t, b.p.base, b.priv, i)
}

// text is everything a first response says.
func (r *reply) text() string {
	s := r.Data.Content
	for _, e := range r.Data.Embeds {
		s += "\n" + embedText(e)
	}
	return s
}

func embedText(e *discordgo.MessageEmbed) string {
	s := e.Title + "\n" + e.Description
	for _, f := range e.Fields {
		s += "\n" + f.Name + ": " + f.Value
	}
	return s
}

// recovered polls probe until it says the replica is whole again, and
// returns how long that took; bounded by a minute.
func recovered(t *testing.T, probe func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < time.Minute {
		if probe() {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond) // a poll interval: the thing awaited is outside the process
	}
	t.Fatal("not recovered within a minute")
	return 0
}

var users atomic.Int64

// someone is a user never seen before: polls do not meet the per-user rate
// limit.
func someone() *discordgo.User {
	n := users.Add(1)
	return &discordgo.User{ID: strconv.FormatInt(400000000000000000+n, 10), Username: "u" + strconv.FormatInt(n, 10)}
}

// as sends i from a new user.
func (b *faultBundle) as(t *testing.T, i *discordgo.Interaction) (int, *reply) {
	t.Helper()
	return b.post(t, fakediscord.As(someone(), i))
}

// viaDiscord sends i to the replica as Discord does, so that the fake knows
// the interaction when a deferred reply arrives over REST.
func (b *faultBundle) viaDiscord(i *discordgo.Interaction) (int, error) {
	body, err := fakediscord.MarshalInteraction(i)
	if err != nil {
		return 0, err
	}
	target, err := url.Parse(b.p.base)
	if err != nil {
		return 0, err
	}
	w := b.discord.ServeInteraction(httputil.NewSingleHostReverseProxy(target), fakediscord.SignedRequest(b.priv, body, time.Now()), 0)
	return w.Code, nil
}

func profileShown(status int, r *reply) bool {
	return status == http.StatusOK && strings.Contains(r.text(), "Testonia")
}

// TestFaults breaks, under the real binary, each thing pnwbot depends on,
// and checks that users get a clear answer meanwhile (within Discord's 3 s),
// that it recovers by itself, and that nothing is lost. Each subtest logs
// its recovery time.
func TestFaults(t *testing.T) {
	t.Parallel()

	t.Run("PostgreSQLStopped10s", func(t *testing.T) {
		t.Parallel()
		pg := storetest.StartPostgres(t)
		dbURL := pg.NewDB(t).Pool.Config().ConnString()
		b := startFaultReplica(t, dbURL, redisDB(t, 13))
		before := b.game.Requests()

		pg.Stop()
		down := time.Now()
		for time.Since(down) < 10*time.Second {
			start := time.Now()
			status, r := b.post(t, fakediscord.Command("/me"))
			require.Less(t, time.Since(start), 3*time.Second, "answered within Discord's 3 s")
			require.Equal(t, http.StatusOK, status)
			require.Contains(t, r.text(), "The database is unavailable right now")
			// What needs no database still answers.
			status, r = b.as(t, fakediscord.Command("/nation", fakediscord.Option("nation", "4242")))
			require.Equal(t, http.StatusOK, status)
			require.Contains(t, r.text(), "Testonia")
			time.Sleep(time.Second) // paced: the linked user's rate limit allows 30 a minute
		}
		pg.Start()
		took := recovered(t, func() bool {
			status, r := b.as(t, fakediscord.Command("/me"))
			return status == http.StatusOK && !strings.Contains(r.text(), "unavailable")
		})
		t.Logf("PostgreSQL stopped for 10 s: recovered %v after it started again", took.Round(time.Millisecond))
		require.True(t, profileShown(b.post(t, fakediscord.Command("/me"))))

		// Nothing lost: every game request of the outage is in the usage
		// log once the replica flushed it on its way out.
		require.Equal(t, 0, b.p.stop(t))
		conn, err := pgx.Connect(context.Background(), dbURL)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		var logged int
		require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM api_usage_logs`).Scan(&logged))
		require.GreaterOrEqual(t, logged, b.game.Requests()-before, "a usage row for each game request")
	})

	t.Run("RedisStopped", func(t *testing.T) {
		t.Parallel()
		rd := storetest.StartRedis(t)
		b := startFaultReplica(t, storetest.NewEmptyDB(t), rd.RedisURL())
		rd.Kill()
		for range 10 {
			status, r := b.post(t, fakediscord.Command("/me"))
			require.True(t, profileShown(status, r), "PostgreSQL stands in for Redis")
		}
		rd.Start()
		took := recovered(t, func() bool {
			status, r := b.as(t, fakediscord.Command("/me"))
			return status == http.StatusOK && strings.Contains(r.text(), "/link") && strings.Contains(get(t, b.p.metrics), "pnwbot_redis_breaker_state 0")
		})
		t.Logf("Redis killed: no command failed; back on Redis %v after it started again", took.Round(time.Millisecond))
		require.Equal(t, 0, b.p.stop(t))
	})

	t.Run("GameFailing", func(t *testing.T) {
		t.Parallel()
		b := startFaultReplica(t, storetest.NewEmptyDB(t), redisDB(t, 14))
		for _, f := range []fakepnw.Failure{{Status: 500}, {Status: 429, Reset: time.Now().Add(5 * time.Second)}} {
			b.game.Fail(f)
			for range 5 {
				start := time.Now()
				status, r := b.as(t, fakediscord.Command("/nation", fakediscord.Option("nation", "1")))
				require.Less(t, time.Since(start), 3*time.Second)
				require.Equal(t, http.StatusOK, status)
				require.NotContains(t, r.text(), "reference", "a clear answer, not an internal error")
			}
			healed := time.Now()
			b.game.Fail(fakepnw.Failure{})
			recovered(t, func() bool {
				status, r := b.as(t, fakediscord.Command("/nation", fakediscord.Option("nation", "1")))
				return status == http.StatusOK && strings.Contains(r.text(), "Bot Nation")
			})
			t.Logf("game answering %d: every command answered; whole again %v after it healed", f.Status, time.Since(healed).Round(time.Millisecond))
		}
		require.Equal(t, 0, b.p.stop(t))
	})

	t.Run("DiscordRESTFailing", func(t *testing.T) {
		t.Parallel()
		b := startFaultReplica(t, storetest.NewEmptyDB(t), redisDB(t, 15))
		// A slow game makes the reply a deferred one: it then goes over
		// REST, into 429s with retry-after and 502s.
		b.game.SetDelay(2500 * time.Millisecond)
		b.discord.RateLimit(2)
		b.discord.BadGateway(2)
		i := fakediscord.Command("/nation", fakediscord.Option("nation", "1"))
		status, err := b.viaDiscord(i)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "deferred")
		sent := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		edit, err := b.discord.WaitEdit(ctx, i.Token)
		require.NoError(t, err)
		require.Contains(t, embedText(edit.Embeds[0]), "Bot Nation")
		t.Logf("Discord REST answering 429 twice and 502 twice: the reply arrived %v after the deferral", time.Since(sent).Round(time.Millisecond))
		require.Contains(t, get(t, b.p.metrics), `pnwbot_discord_rest_errors_total{status="429"} 2`)
		require.Equal(t, 0, b.p.stop(t))
	})

	t.Run("SIGTERMDuringWithdrawal", func(t *testing.T) {
		t.Parallel()
		dbURL := storetest.NewEmptyDB(t)
		var bind func(*testing.T, string, ed25519.PrivateKey)
		b := startFaultReplica(t, dbURL, redisDB(t, 9), func(game *fakepnw.Server, env map[string]string) { bind = withdrawalWorld(game, env) })
		bind(t, b.p.base, b.priv)
		confirm := askWithdrawal(t, b.p.base, b.priv)
		arrived := b.game.Requests() + 2 // the key's check, then bankWithdraw
		release := b.game.Hold("bankWithdraw")
		answered := make(chan int, 1)
		go func() {
			status, _ := b.viaDiscord(fakediscord.Component(confirm))
			answered <- status
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, b.game.WaitRequests(ctx, arrived), "bankWithdraw in flight")
		require.NoError(t, b.p.cmd.Process.Signal(syscall.SIGTERM))
		stopped := time.Now()
		release()
		require.Equal(t, http.StatusOK, <-answered)
		<-b.p.exited
		require.Equal(t, 0, b.p.cmd.ProcessState.ExitCode())
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"), "sent once")
		require.Equal(t, 1_000_000.0-700, b.game.Alliance(9).Bank[pnw.Money])
		conn, err := pgx.Connect(ctx, dbURL)
		require.NoError(t, err)
		defer conn.Close(ctx)
		var state string
		require.NoError(t, conn.QueryRow(ctx, `SELECT state FROM withdrawals`).Scan(&state))
		require.Equal(t, "sent", state, "finished and recorded before the process left")
		t.Logf("SIGTERM with a withdrawal in flight: sent once, recorded sent, exit 0, %v after the game answered", time.Since(stopped).Round(time.Millisecond))
	})

	t.Run("SIGTERMDuringCommand", func(t *testing.T) {
		t.Parallel()
		b := startFaultReplica(t, storetest.NewEmptyDB(t), redisDB(t, 10))
		arrived := b.game.Requests() + 1
		release := b.game.Hold()
		i := fakediscord.Command("/nation", fakediscord.Option("nation", "1"))
		answered := make(chan int, 1)
		go func() {
			status, _ := b.viaDiscord(i)
			answered <- status
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, b.game.WaitRequests(ctx, arrived))
		require.NoError(t, b.p.cmd.Process.Signal(syscall.SIGTERM))
		require.Equal(t, http.StatusOK, <-answered, "deferred while it waits")
		stopped := time.Now()
		release()
		edit, err := b.discord.WaitEdit(ctx, i.Token)
		require.NoError(t, err)
		require.Contains(t, embedText(edit.Embeds[0]), "Bot Nation", "the command in flight finished")
		<-b.p.exited
		require.Equal(t, 0, b.p.cmd.ProcessState.ExitCode())
		t.Logf("SIGTERM with a command in flight: it finished and the process exited 0, %v after the game answered", time.Since(stopped).Round(time.Millisecond))
	})
}
