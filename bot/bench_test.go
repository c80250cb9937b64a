package bot

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"

	"pnwbot/bot/fakediscord"
)

// admitAll is an Admitter that admits every interaction at no cost, so
// that BenchmarkWire measures the bot alone.
type admitAll struct{}

func (admitAll) Claim(context.Context, string, time.Duration) (bool, error) { return true, nil }
func (admitAll) Allow(context.Context, string) (bool, time.Duration, error) {
	return true, 0, nil
}
func (admitAll) Admit(context.Context, string, time.Duration, string) (bool, Verdict, error) {
	return true, Verdict{OK: true}, nil
}

// BenchmarkWire measures what the bot itself spends on one signed POST
// /interactions, with no database behind it: the signature, the body, the
// decoding, the middleware, the access log (JSON, discarded), the metrics
// and the encoded answer: an embed as /me sends, or a refusal as /me gives
// a user who has not linked. The binary's benchmark (cmd/pnwbot
// BenchmarkBinary) adds the network, PostgreSQL and Redis.
//
//	go test -run '^$' -bench Wire -benchmem ./bot
func BenchmarkWire(b *testing.B) {
	pub, priv := fakediscord.NewKey()
	me := func(context.Context, *Request) (*Response, error) {
		return &Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{{Title: "Your pnwbot profile", Color: 0x5865F2, Fields: []*discordgo.MessageEmbedField{
			{Name: "Nation", Value: "Not linked: use /link."},
			{Name: "Roles", Value: "None"},
			{Name: "Replies", Value: "Private (change with /preferences)"},
		}}}}, nil
	}
	fake, err := fakediscord.New()
	if err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	reg := prometheus.NewRegistry()
	rest, err := DialREST(b.Context(), RESTOptions{Token: fakediscord.Token, APIBaseURL: fake.URL, Registerer: reg})
	if err != nil {
		b.Fatal(err)
	}
	bot, err := New(Options{
		REST: rest, PublicKey: pub, Admit: admitAll{}, NoGateway: true, NoReconnect: true, Registerer: reg,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Router: NewRouter(Command{
			Definition: &discordgo.ApplicationCommand{Name: "me", Description: "me"},
			Routes:     []Route{{Path: "/me", Handler: me, Ephemeral: true}},
		}, Command{
			Definition: &discordgo.ApplicationCommand{Name: "refused", Description: "refused"},
			Routes: []Route{{Path: "/refused", Handler: func(context.Context, *Request) (*Response, error) {
				return nil, UserError("You have no nation linked: use /link first.")
			}}},
		}),
	})
	if err != nil {
		b.Fatal(err)
	}
	h := bot.InteractionsHandler()
	for _, path := range []string{"/me", "/refused"} {
		b.Run(path[1:], func(b *testing.B) {
			reqs := make([]*http.Request, b.N)
			for n := range reqs {
				body, err := fakediscord.MarshalInteraction(fakediscord.Command(path))
				if err != nil {
					b.Fatal(err)
				}
				reqs[n] = fakediscord.SignedRequest(priv, body, time.Now())
			}
			b.ReportAllocs()
			cpu := cpuTime(b)
			b.ResetTimer()
			for n := range b.N {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, reqs[n])
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is the CPU time this process has used, user and system: on a
// busy machine it says more than the time an operation took.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
