package bot

import (
	"context"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/discordtest"
)

// TestSession runs the real discordgo session against the fake: gateway
// handshake, registration, an interaction over the websocket answered through
// the callback endpoint, and a shutdown that lets a slow interaction finish.
func TestSession(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	var got *Request
	cmds := append(testCommands(&got),
		route("ping", func(context.Context, *Request) (*Response, error) { return Reply("pong"), nil }, false),
		route("slow", func(context.Context, *Request) (*Response, error) {
			close(started)
			time.Sleep(500 * time.Millisecond)
			return Reply("finished"), nil
		}, false),
	)
	b, tb := setup(t, Options{GuildID: discordtest.GuildID, DeferAfter: 2 * time.Second}, cmds...)
	require.NoError(t, b.Start(waitCtx(t)))

	identify := tb.fake.Identify()
	require.NotNil(t, identify)
	require.Equal(t, discordgo.IntentsNone, identify.Intents)

	registered := tb.fake.Commands(discordtest.GuildID)
	require.Len(t, registered, len(cmds))
	require.Equal(t, "alliance", registered[0].Name)
	require.Equal(t, "info", registered[0].Options[0].Name)
	require.Empty(t, tb.fake.Commands(""))

	i := discordtest.Command("/alliance/info", discordtest.Option("alliance", "Rose"))
	require.NoError(t, tb.fake.SendInteraction(i))
	resp, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
	require.NoError(t, err)
	require.Equal(t, discordgo.InteractionResponseChannelMessageWithSource, resp.Type)
	require.Equal(t, "ok /alliance/info", resp.Content)

	// A modal submission keeps its inputs across the wire.
	m := discordtest.ModalSubmit("link/submit", map[string]string{"key": "abc"})
	require.NoError(t, tb.fake.SendInteraction(m))
	_, err = tb.fake.WaitResponse(waitCtx(t), m.ID)
	require.NoError(t, err)
	var form struct {
		Key string `discord:"key"`
	}
	require.NoError(t, got.Options(&form))
	require.Equal(t, "abc", form.Key)

	// Shutdown waits for the interaction in flight.
	slow := discordtest.Command("/slow")
	require.NoError(t, tb.fake.SendInteraction(slow))
	<-started
	require.NoError(t, b.Close(waitCtx(t)))
	resp, err = tb.fake.WaitResponse(waitCtx(t), slow.ID)
	require.NoError(t, err)
	require.Equal(t, "finished", resp.Content)

	// Once closed, nothing more is answered.
	late := discordtest.Command("/ping")
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
		Token:       discordtest.Token,
		APIBaseURL:  tb.fake.URL,
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
	require.NoError(t, b.Start(waitCtx(t)))
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	tb.fake.Disconnect()
	require.NoError(t, tb.fake.WaitConnections(waitCtx(t), 2))
	i := discordtest.Command("/ping")
	require.NoError(t, tb.fake.SendInteraction(i))
	resp, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
	require.NoError(t, err)
	require.Equal(t, "pong", resp.Content)
}

func TestStartFailsOnBadToken(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	b, err := New(Options{Token: "wrong", APIBaseURL: fake.URL, Router: NewRouter(), NoReconnect: true})
	require.NoError(t, err)
	require.ErrorIs(t, b.Start(waitCtx(t)), ErrTokenRefused)
}
