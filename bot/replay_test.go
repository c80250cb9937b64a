package bot_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// interactionLogs are the two InteractionLogs, each on its own keys.
func interactionLogs() map[string]func(t *testing.T) bot.InteractionLog {
	return map[string]func(t *testing.T) bot.InteractionLog{
		"Redis": func(t *testing.T) bot.InteractionLog {
			client, prefix := storetest.NewRedis(t)
			return kv.NewRedisInteractionLog(client, prefix)
		},
		"PostgreSQL": func(t *testing.T) bot.InteractionLog { return kv.NewPostgresInteractionLog(warmDB(t)) },
	}
}

// warmDB is a fresh database with a connection open: the replay check's
// deadline is for a query, not for a first connection on a loaded machine.
func warmDB(t *testing.T) *store.Store {
	st := storetest.NewDB(t)
	require.NoError(t, st.Pool.Ping(t.Context()))
	return st
}

// A captured interaction posted again, over HTTP or the gateway, runs its
// handler only once.
func TestReplayRefused(t *testing.T) {
	t.Parallel()
	for name, newLog := range interactionLogs() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			fake, err := fakediscord.New()
			require.NoError(t, err)
			t.Cleanup(fake.Close)
			pub, priv := fakediscord.NewKey()
			rest, err := bot.DialREST(ctx, bot.RESTOptions{Token: fakediscord.Token, APIBaseURL: fake.URL})
			require.NoError(t, err)
			var runs atomic.Int32
			refused := make(chan string, 4)
			b, err := bot.New(bot.Options{
				REST: rest, PublicKey: pub, NoReconnect: true,
				Router: bot.NewRouter(bot.Command{
					Definition: &discordgo.ApplicationCommand{Name: "preferences", Description: "preferences"},
					Routes: []bot.Route{{Path: "/preferences", Ephemeral: true, Handler: func(context.Context, *bot.Request) (*bot.Response, error) {
						runs.Add(1)
						return bot.Reply("saved"), nil
					}}},
				}),
				Replays: newLog(t),
				Logger:  slog.New(refusals{refused}),
			})
			require.NoError(t, err)
			require.NoError(t, b.Start(ctx))
			t.Cleanup(func() { _ = b.Close(context.Background()) })

			// The same signed body three times within the window.
			captured := fakediscord.Command("/preferences")
			raw, err := fakediscord.MarshalInteraction(captured)
			require.NoError(t, err)
			signed := time.Now()
			var codes []int
			for range 3 {
				w := httptest.NewRecorder()
				b.InteractionsHandler().ServeHTTP(w, fakediscord.SignedRequest(priv, raw, signed))
				codes = append(codes, w.Code)
			}
			require.Equal(t, []int{http.StatusOK, http.StatusConflict, http.StatusConflict}, codes)
			require.EqualValues(t, 1, runs.Load())
			require.Equal(t, captured.ID, <-refused)
			require.Equal(t, captured.ID, <-refused)

			// The same event twice over the gateway.
			i := fakediscord.Command("/preferences")
			require.NoError(t, fake.SendInteraction(i))
			_, err = fake.WaitResponse(ctx, i.ID)
			require.NoError(t, err)
			require.NoError(t, fake.SendInteraction(i))
			select {
			case id := <-refused:
				require.Equal(t, i.ID, id)
			case <-ctx.Done():
				t.Fatal("the repeat was not refused")
			}
			require.EqualValues(t, 2, runs.Load())
		})
	}
}

// refusals is a log handler that passes on the interaction id of each
// "replayed interaction refused" line.
type refusals struct{ ids chan<- string }

func (refusals) Enabled(context.Context, slog.Level) bool { return true }
func (h refusals) WithAttrs([]slog.Attr) slog.Handler     { return h }
func (h refusals) WithGroup(string) slog.Handler          { return h }
func (h refusals) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "replayed interaction refused" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "interaction_id" {
				h.ids <- a.Value.String()
			}
			return true
		})
	}
	return nil
}

func TestInteractionLogs(t *testing.T) {
	t.Parallel()
	for name, newLog := range interactionLogs() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := newLog(t)
			claim := func(id string) bool {
				ok, err := l.Claim(t.Context(), id, time.Minute)
				require.NoError(t, err)
				return ok
			}
			require.True(t, claim("1"))
			require.False(t, claim("1"))
			require.True(t, claim("2"))
		})
	}
}

// In PostgreSQL an id lapses with its window, and retention removes it.
func TestInteractionLogExpires(t *testing.T) {
	t.Parallel()
	st := warmDB(t)
	l := kv.NewPostgresInteractionLog(st)
	ctx := t.Context()
	claim := func() bool {
		ok, err := l.Claim(ctx, "1", time.Minute)
		require.NoError(t, err)
		return ok
	}
	expire := func() {
		_, err := st.Pool.Exec(ctx, `UPDATE seen_interactions SET expires_at = now() - interval '1 second'`)
		require.NoError(t, err)
	}
	require.True(t, claim())
	expire()
	require.True(t, claim(), "an expired id counts as new")
	require.False(t, claim())

	expire()
	deleted, err := st.Prune(ctx, time.Now())
	require.NoError(t, err)
	require.EqualValues(t, 1, deleted["seen_interactions"])
	require.True(t, claim())
}

// TestReplayCheckDown: with Redis and PostgreSQL both down (private ones,
// stopped), nothing can say whether an interaction is new. A button or a
// form submission, which may change things, runs nothing and is answered
// privately to try again, over the gateway and over HTTP; a slash command
// still runs, as it always has (it reads, or sets a value a repeat sets
// again).
func TestReplayCheckDown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rd, pg := storetest.StartRedis(t), storetest.StartPostgres(t)
	st := pg.NewDB(t)
	opts, err := redis.ParseURL(rd.RedisURL())
	require.NoError(t, err)
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	failover, err := kv.NewFailover(prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	rate := bot.FixedRate(bot.Rate{Requests: 100, Window: time.Minute})
	admit := failover.Admitter(kv.NewRedisAdmitter(kv.NewRedisInteractionLog(rdb, ""), kv.NewRedisLimiter(rdb, "", rate)),
		kv.NewPostgresInteractionLog(st), kv.NewPostgresLimiter(st, rate), bot.NewMemoryLimiter(rate))

	fake, err := fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	pub, priv := fakediscord.NewKey()
	rest, err := bot.DialREST(ctx, bot.RESTOptions{Token: fakediscord.Token, APIBaseURL: fake.URL})
	require.NoError(t, err)
	var ran sync.Map // route -> runs
	count := func(path string) bot.Handler {
		return func(context.Context, *bot.Request) (*bot.Response, error) {
			n, _ := ran.LoadOrStore(path, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			return bot.Reply("done"), nil
		}
	}
	runs := func(path string) int32 {
		n, ok := ran.Load(path)
		if !ok {
			return 0
		}
		return n.(*atomic.Int32).Load()
	}
	b, err := bot.New(bot.Options{
		REST: rest, PublicKey: pub, NoReconnect: true,
		Router: bot.NewRouter(bot.Command{
			Definition: &discordgo.ApplicationCommand{Name: "preferences", Description: "preferences"},
			Routes: []bot.Route{
				{Path: "/preferences", Handler: count("/preferences")},
				{Path: "withdraw/{id}/confirm", Handler: count("withdraw/{id}/confirm")},
				{Path: "link/submit", Handler: count("link/submit")},
			},
		}),
		Admit: admit,
	})
	require.NoError(t, err)
	require.NoError(t, b.Start(ctx))
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	// Up, a click runs.
	click := fakediscord.Component("withdraw/7/confirm")
	require.NoError(t, fake.SendInteraction(click))
	r, err := fake.WaitResponse(ctx, click.ID)
	require.NoError(t, err)
	require.Equal(t, "done", r.Content)

	rd.Kill()
	pg.Stop()
	const tryAgain = "pnwbot could not check that this was not sent twice (its stores are not answering), so it did nothing. Try again in a moment."
	for _, i := range []*discordgo.Interaction{fakediscord.Component("withdraw/7/confirm"), fakediscord.ModalSubmit("link/submit", map[string]string{"key": "x"})} {
		require.NoError(t, fake.SendInteraction(i))
		r, err := fake.WaitResponse(ctx, i.ID)
		require.NoError(t, err)
		require.Equal(t, tryAgain, r.Content)
		require.NotZero(t, r.Flags&discordgo.MessageFlagsEphemeral, "private")

		i.ID = "9" + i.ID[1:] // the same click, delivered anew over HTTP
		raw, err := fakediscord.MarshalInteraction(i)
		require.NoError(t, err)
		w := httptest.NewRecorder()
		b.InteractionsHandler().ServeHTTP(w, fakediscord.SignedRequest(priv, raw, time.Now()))
		require.Equal(t, http.StatusOK, w.Code)
		var resp discordgo.InteractionResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
		require.Equal(t, tryAgain, resp.Data.Content)
		require.NotZero(t, resp.Data.Flags&discordgo.MessageFlagsEphemeral)
	}
	require.EqualValues(t, 1, runs("withdraw/{id}/confirm"), "only the click made while the stores answered")
	require.Zero(t, runs("link/submit"))

	cmd := fakediscord.Command("/preferences")
	require.NoError(t, fake.SendInteraction(cmd))
	r, err = fake.WaitResponse(ctx, cmd.ID)
	require.NoError(t, err)
	require.Equal(t, "done", r.Content)
	require.EqualValues(t, 1, runs("/preferences"), "a slash command still runs")
}
