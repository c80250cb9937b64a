package commands_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/bot/discordtest"
	"pnwbot/commands"
	"pnwbot/pnw"
	"pnwbot/pnw/pnwtest"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/adapter"
	"pnwbot/store/storetest"
)

// stack is pnwbot wired as `pnwbot run` wires it with Redis (cache and rate
// limits in Redis, the rest in PostgreSQL), served through POST
// /interactions. The commands' queries go through a counter.
type stack struct {
	handler http.Handler
	key     ed25519.PrivateKey
	game    *pnwtest.Server
	queries *queryCounter
}

func newStack(t testing.TB) *stack {
	t.Helper()
	st := storetest.NewDB(t)
	rdb, prefix := storetest.NewRedis(t)
	fake, err := pnwtest.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	discord, err := discordtest.New()
	require.NoError(t, err)
	t.Cleanup(discord.Close)
	s := &stack{game: fake, queries: &queryCounter{}}
	s.game.AddKey(botKey, 1)
	s.game.AddAlliance(pnwtest.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Score: 123456.78, Rank: 3, Color: "purple"})
	s.game.AddNation(pnwtest.Nation{ID: 211457, NationName: "Benchland", LeaderName: "Bench", AllianceID: rose, NumCities: 21, Color: "purple"})

	cfg := st.Pool.Config()
	cfg.ConnConfig.Tracer = s.queries
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	counted := store.Wrap(pool)

	// The usage log is written in batches off the request path: it has the
	// uncounted pool.
	game, err := pnw.New(pnw.Options{URL: s.game.URL, APIKey: botKey, Cache: pnw.NewRedisCache(rdb, prefix+"cache:"), Usage: adapter.NewUsage(st)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	keys, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)
	deps := &commands.Deps{Store: counted, Game: game, Keys: keys}

	pub, priv := discordtest.NewKey()
	b, err := bot.New(bot.Options{
		Token: discordtest.Token, APIBaseURL: discord.URL, PublicKey: pub,
		Router: deps.Router(),
		// Each benchmark user sends more than the production 30 a minute.
		Limiter: bot.NewRedisLimiter(rdb, prefix, bot.Rate{Requests: 1 << 30, Window: time.Minute}),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	s.handler, s.key = b.InteractionsHandler(), priv
	return s
}

// post sends i as Discord would and returns the inline answer.
func (s *stack) post(t testing.TB, i *discordgo.Interaction) *discordgo.InteractionResponse {
	t.Helper()
	raw, err := discordtest.MarshalInteraction(i)
	require.NoError(t, err)
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, discordtest.SignedRequest(s.key, raw, time.Now()))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var resp discordgo.InteractionResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
	return &resp
}

// queryCounter counts the queries sent to PostgreSQL.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestOneRoundTrip: with Redis, the bot and the commands read the caller's
// row once between them, and a cached lookup writes nothing.
func TestOneRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStack(t)

	before := s.queries.n.Load()
	resp := s.post(t, discordtest.Command("/me"))
	require.Contains(t, resp.Data.Content, "/link")
	require.True(t, resp.Data.Flags&discordgo.MessageFlagsEphemeral != 0)
	require.Equal(t, int64(1), s.queries.n.Load()-before, "/me costs one query: the caller's row")
}
