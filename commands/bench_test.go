package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

// benchClients is how many clients send requests at once.
const benchClients = 16

// benchUsers is how many distinct users the requests come from.
const benchUsers = 20000

// BenchmarkInteractions drives POST /interactions over HTTP with signed
// requests from 16 concurrent clients, each request from another user, on
// the stack `pnwbot run` wires with Redis. "bare" is the floor: a server that
// only verifies the signature, decodes the interaction and answers. Compare
// the req/s of the three in one run.
func BenchmarkInteractions(b *testing.B) {
	s := newStack(b)
	nation := fakediscord.Option("nation", fmt.Sprint(benchNation))
	s.post(b, fakediscord.Command("/nation", nation)) // fills the cache

	pub, priv := fakediscord.NewKey()
	bare := fakediscord.Floor(pub)

	for _, c := range []struct {
		name    string
		handler http.Handler
		key     []byte
		i       func() *discordgo.Interaction
		want    string // in every answer
	}{
		{"bare", bare, priv, func() *discordgo.Interaction { return fakediscord.Command("/ping") }, "pong"},
		{"me-unlinked", s.handler, s.key, func() *discordgo.Interaction { return fakediscord.Command("/me") }, "/link"},
		{"nation-cached", s.handler, s.key, func() *discordgo.Interaction { return fakediscord.Command("/nation", nation) }, "Benchland"},
	} {
		// Signed beforehand, so the clients spend little of the machine.
		bodies := make([][]byte, benchUsers)
		for n := range bodies {
			i := c.i()
			i.Member.User.ID = fmt.Sprint(210000000000000000 + n)
			bodies[n] = marshal(b, i)
		}
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
			defer client.CloseIdleConnections()
			var next atomic.Int64
			b.SetParallelism((benchClients + 1) / 2) // × GOMAXPROCS (2 here) goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := postSigned(client, srv.URL, c.key, bodies[next.Add(1)%benchUsers], c.want); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// postSigned posts body signed with key, as Discord does, and checks the
// answer holds want.
func postSigned(client *http.Client, url string, key []byte, body []byte, want string) error {
	r := fakediscord.SignedRequest(key, body, time.Now())
	req, err := http.NewRequest(http.MethodPost, url+"/interactions", r.Body)
	if err != nil {
		return err
	}
	req.Header = r.Header
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(got, []byte(want)) {
		return fmt.Errorf("status %d: %s", resp.StatusCode, got)
	}
	return nil
}

// BenchmarkGatewayMe sends /me from a linked user over the fake gateway and
// waits for the callback, one at a time, beside a floor: a command whose
// handler runs SELECT 1. It reports the 50th and 99th percentiles.
func BenchmarkGatewayMe(b *testing.B) {
	var s *stack
	floor := bot.Command{
		Definition: &discordgo.ApplicationCommand{Name: "floor", Description: "SELECT 1"},
		Routes: []bot.Route{{Path: "/floor", Handler: func(ctx context.Context, _ *bot.Request) (*bot.Response, error) {
			var one int
			if err := s.st.Pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
				return nil, err
			}
			return bot.Reply("pong"), nil
		}}},
	}
	s = newStack(b, floor)
	ctx := b.Context()
	require.NoError(b, s.bot.Start(ctx))
	link := interaction(b, "link_submit", "key", aliceKey, "user", aliceID)
	require.Contains(b, s.post(b, link).Data.Content, "Aliceland")

	for _, c := range []struct {
		name string
		i    func() *discordgo.Interaction
	}{
		{"floor", func() *discordgo.Interaction { return fakediscord.Command("/floor") }},
		{"me", func() *discordgo.Interaction {
			i := fakediscord.Command("/me")
			i.Member.User.ID = aliceID
			return i
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var durations []time.Duration
			for b.Loop() {
				i := c.i()
				start := time.Now()
				require.NoError(b, s.discord.SendInteraction(i))
				reply, err := s.discord.WaitResponse(ctx, i.ID)
				require.NoError(b, err)
				durations = append(durations, time.Since(start))
				if len(reply.Embeds) == 0 && reply.Content != "pong" {
					b.Fatalf("unexpected reply %+v", reply)
				}
			}
			slices.Sort(durations)
			b.ReportMetric(float64(durations[len(durations)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkAllianceMembers runs /alliance members for a 300-member alliance
// through the router, as an admin: cold (the members list fetched from the
// game on every run) and cached. It reports the game API requests a run
// costs.
func BenchmarkAllianceMembers(b *testing.B) {
	_, tb := setup(b)
	ctx := context.Background()
	for n := range 300 {
		tb.game.AddNation(fakepnw.Nation{ID: 10_000 + n, NationName: fmt.Sprintf("Member %03d", n), LeaderName: "L", AllianceID: rose,
			Score: float64(n), NumCities: n % 40, Color: "purple", LastActive: time.Now().Add(-time.Duration(n) * time.Minute)})
	}
	_, err := tb.link(b, aliceID, aliceKey)
	require.NoError(b, err)
	u, err := tb.st.UserGetByDiscordID(ctx, aliceID)
	require.NoError(b, err)
	a, err := tb.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
	require.NoError(b, err)
	_, err = tb.st.AllianceSetGuild(ctx, store.AllianceSetGuildParams{ID: a.ID, DiscordGuildID: ptr(guild)})
	require.NoError(b, err)
	_, err = tb.st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: u.ID, AllianceID: a.ID, Role: access.Admin, Permissions: []byte("{}")})
	require.NoError(b, err)
	i := interaction(b, "alliance_members", "sort", "score", "filter", "all", "guild", guild)

	run := func(b *testing.B, cold bool) {
		start := tb.game.Requests()
		for b.Loop() {
			if cold {
				require.NoError(b, tb.client.InvalidateTag(ctx, pnw.AllianceTag(rose)))
			}
			resp, err := tb.router.Serve(ctx, i)
			if err != nil || len(resp.Embeds[0].Fields) != 10 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(tb.game.Requests()-start)/float64(b.N), "api-requests/op")
	}
	b.Run("cold", func(b *testing.B) { run(b, true) })
	b.Run("cached", func(b *testing.B) { run(b, false) })
}
