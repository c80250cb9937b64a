package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
)

// TestSession runs the real discordgo session against the fake: gateway
// handshake, registration, an interaction over the websocket answered through
// the callback endpoint, and a shutdown that lets a slow interaction finish.
func TestSession(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	var got *Request
	cmds := append(testCommands(&got),
		route("ping", func(context.Context, *Request) (*Response, error) { return Reply("pong"), nil }, false),
		route("slow", func(context.Context, *Request) (*Response, error) {
			close(started)
			<-release
			return Reply("finished"), nil
		}, false),
	)
	b, tb := setup(t, Options{GuildID: fakediscord.GuildID, DeferAfter: 2 * time.Second}, cmds...)
	require.NoError(t, b.Start(waitCtx(t)))

	identify := tb.fake.Identify()
	require.NotNil(t, identify)
	require.Equal(t, discordgo.IntentsNone, identify.Intents)

	registered := tb.fake.Commands(fakediscord.GuildID)
	require.Len(t, registered, len(cmds))
	require.Equal(t, "alliance", registered[0].Name)
	require.Equal(t, "info", registered[0].Options[0].Name)
	require.Empty(t, tb.fake.Commands(""))

	i := fakediscord.Command("/alliance/info", fakediscord.Option("alliance", "Rose"))
	require.NoError(t, tb.fake.SendInteraction(i))
	resp, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
	require.NoError(t, err)
	require.Equal(t, discordgo.InteractionResponseChannelMessageWithSource, resp.Type)
	require.Equal(t, "ok /alliance/info", resp.Content)

	// A modal submission keeps its inputs across the wire.
	m := fakediscord.ModalSubmit("link/submit", map[string]string{"key": "abc"})
	require.NoError(t, tb.fake.SendInteraction(m))
	_, err = tb.fake.WaitResponse(waitCtx(t), m.ID)
	require.NoError(t, err)
	var form struct {
		Key string `discord:"key"`
	}
	require.NoError(t, got.Options(&form))
	require.Equal(t, "abc", form.Key)

	// Shutdown waits for the interaction in flight.
	slow := fakediscord.Command("/slow")
	require.NoError(t, tb.fake.SendInteraction(slow))
	<-started
	closed := make(chan error, 1)
	go func() { closed <- b.Close(waitCtx(t)) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with an interaction in flight", err)
	default:
	}
	close(release)
	require.NoError(t, <-closed)
	// The reply was delivered before Close returned.
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	resp, err = tb.fake.WaitResponse(gone, slow.ID)
	require.NoError(t, err)
	require.Equal(t, "finished", resp.Content)

	// Once closed, nothing more is answered.
	late := fakediscord.Command("/ping")
	gateway(b, late)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = tb.fake.WaitResponse(ctx, late.ID)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestSessionGlobalRegistration(t *testing.T) {
	t.Parallel()
	tb := &testBundle{fake: newFake(t)}
	b, err := New(Options{
		REST:        dialREST(t, tb.fake, nil),
		Router:      NewRouter(route("ping", func(context.Context, *Request) (*Response, error) { return Reply("pong"), nil }, false)),
		NoReconnect: true,
	})
	require.NoError(t, err)
	require.NoError(t, b.Start(waitCtx(t)))
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	require.Len(t, tb.fake.Commands(""), 1)
}

func TestSessionReconnects(t *testing.T) {
	t.Parallel()
	b, tb := setup(t, Options{}, route("ping", func(context.Context, *Request) (*Response, error) { return Reply("pong"), nil }, false))
	b.session.ShouldReconnectOnError = true
	b.session.SyncEvents = true // the Connect event is handled before the interaction that follows it
	require.NoError(t, b.Start(waitCtx(t)))
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	require.NoError(t, tb.fake.WaitConnections(waitCtx(t), 1)) // else Disconnect may come before the fake holds the connection
	tb.fake.Disconnect()
	require.NoError(t, tb.fake.WaitConnections(waitCtx(t), 2))
	i := fakediscord.Command("/ping")
	require.NoError(t, tb.fake.SendInteraction(i))
	resp, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
	require.NoError(t, err)
	require.Equal(t, "pong", resp.Content)
	require.NoError(t, b.CheckGateway(t.Context()))
	require.NoError(t, testutil.GatherAndCompare(tb.reg, strings.NewReader(`
# HELP pnwbot_gateway_connected 1 while the Discord gateway is connected, else 0.
# TYPE pnwbot_gateway_connected gauge
pnwbot_gateway_connected 1
# HELP pnwbot_gateway_reconnects_total Gateway connections after the first one.
# TYPE pnwbot_gateway_reconnects_total counter
pnwbot_gateway_reconnects_total 1
`), "pnwbot_gateway_connected", "pnwbot_gateway_reconnects_total"))
}

func TestSessionLostFailsReadiness(t *testing.T) {
	t.Parallel()
	b, tb := setup(t, Options{})
	b.session.SyncEvents = true // handlers run in order: the bot's, then the test's
	disconnected := make(chan struct{}, 1)
	b.session.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) {
		select {
		case disconnected <- struct{}{}:
		default: // Close at the end emits a second one
		}
	})
	require.NoError(t, b.Start(waitCtx(t)))
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	require.NoError(t, b.CheckGateway(t.Context()))

	require.NoError(t, tb.fake.WaitConnections(waitCtx(t), 1)) // else Disconnect may come before the fake holds the connection
	tb.fake.Disconnect()
	select {
	case <-disconnected:
	case <-waitCtx(t).Done():
		t.Fatal("no Disconnect event")
	}
	require.EqualError(t, b.CheckGateway(t.Context()), "discord gateway not connected")
	require.Zero(t, testutil.ToFloat64(b.gateway.upGauge))
}

func TestStartFailsOnBadToken(t *testing.T) {
	t.Parallel()
	tb := &testBundle{fake: newFake(t), reg: prometheus.NewRegistry()}
	_, err := DialREST(waitCtx(t), RESTOptions{Token: "wrong", APIBaseURL: tb.fake.URL, Registerer: tb.reg})
	require.ErrorIs(t, err, ErrTokenRefused)
	require.NoError(t, testutil.GatherAndCompare(tb.reg, strings.NewReader(`
# HELP pnwbot_discord_rest_errors_total Discord REST requests that failed, by HTTP status ("429" when rate limited) or "network" when no answer came.
# TYPE pnwbot_discord_rest_errors_total counter
pnwbot_discord_rest_errors_total{status="401"} 1
`), "pnwbot_discord_rest_errors_total"))
}

func TestRateLimitedRequestsCounted(t *testing.T) {
	t.Parallel()
	b, tb := setup(t, Options{})
	tb.fake.RateLimit(2)
	require.NoError(t, b.Start(waitCtx(t)), "discordgo waits out a 429 and retries")
	n, err := testutil.GatherAndCount(tb.reg, "pnwbot_discord_rest_errors_total")
	require.NoError(t, err)
	require.Equal(t, 1, n, "one series")
	require.NoError(t, testutil.GatherAndCompare(tb.reg, strings.NewReader(`
# HELP pnwbot_discord_rest_errors_total Discord REST requests that failed, by HTTP status ("429" when rate limited) or "network" when no answer came.
# TYPE pnwbot_discord_rest_errors_total counter
pnwbot_discord_rest_errors_total{status="429"} 2
`), "pnwbot_discord_rest_errors_total"))
}
