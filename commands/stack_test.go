package commands_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/commands"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// stack is pnwbot wired as `pnwbot run` wires it with Redis (cache and rate
// limits in Redis, the rest in PostgreSQL), served through POST
// /interactions. The commands' queries go through a counter.
type stack struct {
	bot     *bot.Bot
	handler http.Handler
	key     ed25519.PrivateKey
	discord *fakediscord.Fake
	game    *fakepnw.Server
	st      *store.Store
	queries *storetest.Queries
}

// The nation every benchmark user looks up, as in the load test.
const benchNation = 211457

// newStack starts the stack with the member commands and extra; Alice's key
// is known to the game.
func newStack(t testing.TB, extra ...bot.Command) *stack {
	t.Helper()
	st := storetest.NewDB(t)
	rdb, prefix := storetest.NewRedis(t)
	fake, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	discord, err := fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(discord.Close)
	s := &stack{discord: discord, game: fake, st: st}
	s.game.AddKey(botKey, 1)
	s.game.AddKey(aliceKey, aliceNation)
	s.game.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Score: 123456.78, Rank: 3, Color: "purple"})
	s.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "OFFICER"})
	s.game.AddNation(fakepnw.Nation{ID: benchNation, NationName: "Benchland", LeaderName: "Bench", AllianceID: rose, NumCities: 21, Color: "purple"})

	counted, queries := storetest.Counted(t, st)
	s.queries = queries

	// The usage log is written in batches off the request path: it has the
	// uncounted pool.
	game, err := pnw.New(pnw.Options{URL: s.game.URL, APIKey: botKey, Cache: kv.NewRedisCache(rdb, prefix+"cache:"), Usage: kv.NewUsage(st)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	keys, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)
	deps := build(wiring{Deps: commands.Deps{Store: counted, Game: game, Keys: keys}})

	router := deps.Router()
	router.Add(extra...)
	pub, priv := fakediscord.NewKey()
	rest, err := bot.DialREST(t.Context(), bot.RESTOptions{Token: fakediscord.Token, APIBaseURL: discord.URL})
	require.NoError(t, err)
	b, err := bot.New(bot.Options{
		REST: rest, GuildID: fakediscord.GuildID, PublicKey: pub,
		Router: router, NoReconnect: true,
		// Each benchmark user sends more than the production 30 a minute.
		Limiter: kv.NewRedisLimiter(rdb, prefix, bot.FixedRate(bot.Rate{Requests: 1 << 30, Window: time.Minute})),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	s.bot, s.handler, s.key = b, b.InteractionsHandler(), priv
	return s
}

// post sends i as Discord would and returns the inline answer.
func (s *stack) post(t testing.TB, i *discordgo.Interaction) *discordgo.InteractionResponse {
	t.Helper()
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, fakediscord.SignedRequest(s.key, marshal(t, i), time.Now()))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var resp discordgo.InteractionResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
	return &resp
}

func marshal(t testing.TB, i *discordgo.Interaction) []byte {
	t.Helper()
	raw, err := fakediscord.MarshalInteraction(i)
	require.NoError(t, err)
	return raw
}

// TestOneRoundTrip: with Redis, the bot and the commands read the caller's
// row once between them, and a cached lookup writes nothing.
func TestOneRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStack(t)

	before := s.queries.N()
	resp := s.post(t, fakediscord.Command("/me"))
	require.Contains(t, resp.Data.Content, "/link")
	require.True(t, resp.Data.Flags&discordgo.MessageFlagsEphemeral != 0)
	require.Equal(t, int64(1), s.queries.N()-before, "/me costs one query: the caller's row")

	// The first lookup that spends the bot's key makes the caller's account
	// (begin, the user, its audit row, commit), to log the spend on it.
	before = s.queries.N()
	require.Equal(t, "Aliceland", s.post(t, fakediscord.Command("/nation", fakediscord.Option("nation", fmt.Sprint(aliceNation)))).Data.Embeds[0].Title)
	require.Equal(t, int64(6), s.queries.N()-before, "from the game, a first time: the caller's row, their account made, and the name remembered")

	nation := fakediscord.Command("/nation", fakediscord.Option("nation", fmt.Sprint(benchNation)))
	before = s.queries.N()
	require.Equal(t, "Benchland", s.post(t, nation).Data.Embeds[0].Title)
	require.Equal(t, int64(2), s.queries.N()-before, "from the game: the caller's row, and the name remembered")
	for range 3 {
		before = s.queries.N()
		nation = fakediscord.Command("/nation", fakediscord.Option("nation", fmt.Sprint(benchNation)))
		require.Equal(t, "Benchland", s.post(t, nation).Data.Embeds[0].Title)
		require.Equal(t, int64(1), s.queries.N()-before, "cached: the caller's row only, nothing written")
	}

	// A linked caller who is a system admin and manages an alliance: /me
	// reads the row and the roles in that one query.
	require.Contains(t, s.post(t, interaction(t, "link_submit", "key", aliceKey, "user", aliceID)).Data.Content, "Aliceland")
	ctx := t.Context()
	u, err := s.st.UserGetByDiscordID(ctx, aliceID)
	require.NoError(t, err)
	_, err = s.st.SystemAdminUpsert(ctx, store.SystemAdminUpsertParams{UserID: u.ID, Level: "super_admin", Permissions: []byte("{}"), Listed: true})
	require.NoError(t, err)
	a, err := s.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	_, err = s.st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: u.ID, AllianceID: a.ID, Role: access.Manager, Permissions: []byte("{}")})
	require.NoError(t, err)
	me := fakediscord.Command("/me")
	me.Member.User.ID = aliceID
	before = s.queries.N()
	resp = s.post(t, me)
	require.Equal(t, int64(1), s.queries.N()-before, "the caller's row and roles, in one query")
	require.Equal(t, fmt.Sprintf("System super admin\nManager of [Rose](https://politicsandwar.com/alliance/id=%d)", rose), resp.Data.Embeds[0].Fields[3].Value)
}
