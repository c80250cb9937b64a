package bot

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
)

type testBundle struct {
	fake *fakediscord.Fake
	logs *syncBuffer
	reg  *prometheus.Registry
}

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newFake starts a fake Discord, stopped when the test ends.
func newFake(t testing.TB) *fakediscord.Fake {
	t.Helper()
	f, err := fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(f.Close)
	return f
}

// setup returns a bot serving cmds against a fresh fake Discord; opts fill
// in what the test cares about.
func setup(t *testing.T, opts Options, cmds ...Command) (*Bot, *testBundle) {
	t.Helper()
	return setupRouter(t, opts, NewRouter(cmds...))
}

// setupRouter is setup with a router of the test's, its middleware in place.
func setupRouter(t *testing.T, opts Options, router *Router) (*Bot, *testBundle) {
	t.Helper()
	tb := &testBundle{fake: newFake(t), logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
	opts.REST = dialREST(t, tb.fake, tb.reg)
	opts.Router = router
	opts.Logger = slog.New(slog.NewJSONHandler(tb.logs, nil))
	opts.Registerer = tb.reg
	opts.NoReconnect = true
	b, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot logs:\n%s", tb.logs)
		}
	})
	return b, tb
}

// dialREST is a REST client of fake, counting its failed requests in reg.
func dialREST(t testing.TB, fake *fakediscord.Fake, reg prometheus.Registerer) *REST {
	t.Helper()
	rest, err := DialREST(t.Context(), RESTOptions{Token: fakediscord.Token, APIBaseURL: fake.URL, Registerer: reg})
	require.NoError(t, err)
	return rest
}

// waitCtx bounds a wait on the fake.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// route is a command /name served by h.
func route(name string, h Handler, ephemeral bool) Command {
	return Command{
		Definition: &discordgo.ApplicationCommand{Name: name, Description: name},
		Routes:     []Route{{Path: "/" + name, Handler: h, Ephemeral: ephemeral}},
	}
}

// serve runs i through the bot as the HTTP endpoint would and returns the
// first response.
func serve(b *Bot, i *discordgo.Interaction) *discordgo.InteractionResponse {
	var first *discordgo.InteractionResponse
	b.handle(i, firstSeen, nil, func(_ context.Context, resp *discordgo.InteractionResponse) error {
		first = resp
		return nil
	})
	return first
}

// gateway runs i as if it came over the gateway: responses go to the fake.
func gateway(b *Bot, i *discordgo.Interaction) {
	b.onInteraction(b.session, &discordgo.InteractionCreate{Interaction: i})
}

var referencePattern = regexp.MustCompile("reference `([0-9a-f]{8})`")

func requireFriendlyError(t *testing.T, content string, flags discordgo.MessageFlags, mentions *discordgo.MessageAllowedMentions) string {
	t.Helper()
	m := referencePattern.FindStringSubmatch(content)
	require.NotNil(t, m, content)
	require.Equal(t, discordgo.MessageFlagsEphemeral, flags)
	require.NotNil(t, mentions)
	require.Empty(t, mentions.Parse)
	return m[1]
}

func TestErrorPath(t *testing.T) {
	t.Parallel()
	b, tb := setup(t, Options{},
		route("boom", func(context.Context, *Request) (*Response, error) { panic("nil map somewhere") }, false),
		route("fail", func(context.Context, *Request) (*Response, error) {
			return nil, errors.New("connect to postgres://bot:hunter2@db failed")
		}, false),
		route("refuse", func(context.Context, *Request) (*Response, error) {
			return nil, fmtWrap(UserError("Link your nation first with /link."))
		}, false),
		route("empty", func(context.Context, *Request) (*Response, error) { return &Response{}, nil }, false),
	)

	t.Run("PanicRecovered", func(t *testing.T) {
		i := fakediscord.Command("/boom")
		resp := serve(b, i)
		require.Equal(t, discordgo.InteractionResponseChannelMessageWithSource, resp.Type)
		ref := requireFriendlyError(t, resp.Data.Content, resp.Data.Flags, resp.Data.AllowedMentions)
		require.NotContains(t, resp.Data.Content, "nil map")
		logs := tb.logs.String()
		require.Contains(t, logs, `"ref":"`+ref+`"`)
		require.Contains(t, logs, "nil map somewhere")
		require.Contains(t, logs, `"outcome":"panic"`)
		require.Contains(t, logs, `"interaction_id":"`+i.ID+`"`)
	})

	t.Run("RawErrorsNeverShown", func(t *testing.T) {
		resp := serve(b, fakediscord.Command("/fail"))
		ref := requireFriendlyError(t, resp.Data.Content, resp.Data.Flags, resp.Data.AllowedMentions)
		require.NotContains(t, resp.Data.Content, "hunter2")
		require.Contains(t, tb.logs.String(), ref)
	})

	t.Run("UserErrorShownAsIs", func(t *testing.T) {
		resp := serve(b, fakediscord.Command("/refuse"))
		require.Equal(t, "Link your nation first with /link.", resp.Data.Content)
		require.Equal(t, discordgo.MessageFlagsEphemeral, resp.Data.Flags)
	})

	t.Run("EmptyMessageIsAnError", func(t *testing.T) {
		resp := serve(b, fakediscord.Command("/empty"))
		requireFriendlyError(t, resp.Data.Content, resp.Data.Flags, resp.Data.AllowedMentions)
	})

	t.Run("AutocompleteErrorsGiveNoChoices", func(t *testing.T) {
		resp := serve(b, fakediscord.Autocomplete("/boom"))
		require.Equal(t, discordgo.InteractionApplicationCommandAutocompleteResult, resp.Type)
		require.Empty(t, resp.Data.Choices)
	})

	t.Run("NoUser", func(t *testing.T) {
		// Every route's middleware runs, the caller load included: it must
		// not see a request without a user.
		i := fakediscord.Command("/fail")
		i.Member, i.User = nil, nil
		resp := serve(b, i)
		ref := requireFriendlyError(t, resp.Data.Content, resp.Data.Flags, resp.Data.AllowedMentions)
		logs := tb.logs.String()
		require.Regexp(t, `"ref":"`+ref+`".*has no user`, logs)
		require.NotContains(t, logs, "nil pointer")
	})

	t.Run("Metrics", func(t *testing.T) {
		count := func(route, outcome string) float64 {
			return testutil.ToFloat64(b.metrics.interactions.WithLabelValues(route, "command", outcome))
		}
		panics, refusals := count("/boom", OutcomePanic), count("/refuse", OutcomeUserError)
		serve(b, fakediscord.Command("/boom"))
		serve(b, fakediscord.Command("/refuse"))
		require.Equal(t, panics+1, count("/boom", OutcomePanic))
		require.Equal(t, refusals+1, count("/refuse", OutcomeUserError))
		n, err := testutil.GatherAndCount(tb.reg, "pnwbot_interaction_duration_seconds")
		require.NoError(t, err)
		require.Positive(t, n)
	})
}

func fmtWrap(err error) error { return errors.Join(errors.New("linking"), err) }

func TestLogsHoldNoOptionValues(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, *Request) (*Response, error) { return Reply("done"), nil }
	b, tb := setup(t, Options{}, Command{
		Definition: &discordgo.ApplicationCommand{Name: "nation", Description: "n"},
		Routes:     []Route{{Path: "/nation", Handler: ok}, {Path: "link/submit", Handler: ok}},
	})
	serve(b, fakediscord.Command("/nation", fakediscord.Option("nation", "Typed-Nation-Name")))
	serve(b, fakediscord.ModalSubmit("link/submit", map[string]string{"key": "s3cr3t-api-key"}))
	logs := tb.logs.String()
	require.NotContains(t, logs, "Typed-Nation-Name")
	require.NotContains(t, logs, "s3cr3t-api-key")
	for _, attr := range []string{`"route":"/nation"`, `"route":"link/submit"`, `"user_id":"` + fakediscord.UserID + `"`, `"duration_ms":`, `"outcome":"ok"`} {
		require.Contains(t, logs, attr)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	// The limiters themselves are tested in ratelimit_test.go.
	rate := Rate{Requests: 3, Window: time.Minute}
	ok := func(context.Context, *Request) (*Response, error) { return Reply("fine"), nil }
	choices := func(context.Context, *Request) (*Response, error) {
		return Choices(&discordgo.ApplicationCommandOptionChoice{Name: "pong", Value: "pong"}), nil
	}
	b, _ := setup(t, Options{Limiter: NewMemoryLimiter(FixedRate(rate))}, Command{
		Definition: &discordgo.ApplicationCommand{Name: "ping", Description: "ping"},
		Routes:     []Route{{Path: "/ping", Handler: ok, Autocomplete: choices}},
	})
	for range rate.Requests {
		require.Equal(t, "fine", serve(b, fakediscord.Command("/ping")).Data.Content)
	}
	resp := serve(b, fakediscord.Command("/ping"))
	require.Regexp(t, `^You are sending commands too fast\. Try again in \d+ seconds\.$`, resp.Data.Content)
	require.Equal(t, discordgo.MessageFlagsEphemeral, resp.Data.Flags)
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.interactions.WithLabelValues("/ping", "command", OutcomeRateLimited)))

	// Autocomplete past the limit is served: it is not counted.
	resp = serve(b, fakediscord.Autocomplete("/ping"))
	require.Equal(t, discordgo.InteractionApplicationCommandAutocompleteResult, resp.Type)
	require.Len(t, resp.Data.Choices, 1)
	require.Equal(t, "pong", resp.Data.Choices[0].Name)

	// Another user is not affected.
	other := fakediscord.Command("/ping")
	other.Member.User.ID = "200000000000000099"
	require.Equal(t, "fine", serve(b, other).Data.Content)
}

// failingLimiter is a limiter whose stores are all down.
type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string) (bool, time.Duration, error) {
	return false, 0, errors.New("connection refused")
}

// A limiter that cannot answer refuses the request: never a silent pass.
func TestRateLimitNeverFailsOpen(t *testing.T) {
	t.Parallel()
	var ran bool
	b, tb := setup(t, Options{Limiter: failingLimiter{}}, Command{
		Definition: &discordgo.ApplicationCommand{Name: "ping", Description: "ping"},
		Routes: []Route{{Path: "/ping", Handler: func(context.Context, *Request) (*Response, error) {
			ran = true
			return Reply("fine"), nil
		}}},
	})
	resp := serve(b, fakediscord.Command("/ping"))
	require.False(t, ran)
	require.Equal(t, "pnwbot cannot check its rate limits right now. Try again in a minute.", resp.Data.Content)
	require.Equal(t, discordgo.MessageFlagsEphemeral, resp.Data.Flags)
	require.Contains(t, tb.logs.String(), "rate limiter failed, refusing")
}

func TestAutoDefer(t *testing.T) {
	t.Parallel()
	// A slow handler answers once Discord has its deferral: no sleeps.
	var fake *fakediscord.Fake
	slow := func(resp *Response, err error) Handler {
		return func(ctx context.Context, req *Request) (*Response, error) {
			if _, werr := fake.WaitResponse(ctx, req.Interaction.ID); werr != nil {
				return nil, werr
			}
			return resp, err
		}
	}
	router := NewRouter(
		route("slow", slow(Reply("late but here"), nil), false),
		route("slow-private", slow(Reply("psst"), nil), true),
		route("slow-refusal", slow(nil, UserError("No.")), false),
		route("slow-modal", slow(Modal("m/x", "Too late"), nil), false),
		Command{Routes: []Route{
			{Path: "confirm/{id}", Handler: slow(&Response{Type: TypeUpdate, Content: "Confirmed."}, nil)},
			{Path: "again/{id}", Handler: slow(Reply("A new message."), nil)},
		}},
	)
	router.Use(preferPrivate(func(ctx context.Context, req *Request) bool { return req.User.ID == "200000000000000077" }))
	b, tb := setupRouter(t, Options{DeferAfter: 200 * time.Millisecond}, router)
	fake = tb.fake

	t.Run("PublicCommand", func(t *testing.T) {
		t.Parallel()
		i := fakediscord.Command("/slow")
		gateway(b, i)
		first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		require.Equal(t, discordgo.InteractionResponseDeferredChannelMessageWithSource, first.Type)
		require.False(t, first.Ephemeral())
		edit, err := tb.fake.WaitEdit(waitCtx(t), i.Token)
		require.NoError(t, err)
		require.Equal(t, "late but here", edit.Content)
	})

	t.Run("EphemeralRoute", func(t *testing.T) {
		t.Parallel()
		i := fakediscord.Command("/slow-private")
		gateway(b, i)
		first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		require.Equal(t, discordgo.InteractionResponseDeferredChannelMessageWithSource, first.Type)
		require.True(t, first.Ephemeral())
		edit, err := tb.fake.WaitEdit(waitCtx(t), i.Token)
		require.NoError(t, err)
		require.Equal(t, "psst", edit.Content)
	})

	t.Run("UserPrefersPrivate", func(t *testing.T) {
		t.Parallel()
		i := fakediscord.Command("/slow")
		i.Member.User.ID = "200000000000000077"
		gateway(b, i)
		first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		require.True(t, first.Ephemeral())
	})

	t.Run("ErrorAfterPublicDeferral", func(t *testing.T) {
		t.Parallel()
		// The public "thinking" message goes; the refusal comes privately.
		i := fakediscord.Command("/slow-refusal")
		gateway(b, i)
		followup, err := tb.fake.WaitFollowup(waitCtx(t), i.Token)
		require.NoError(t, err)
		require.Equal(t, "No.", followup.Content)
		require.True(t, followup.Ephemeral())
		require.True(t, tb.fake.Deleted(i.Token))
	})

	t.Run("ModalAfterDeferral", func(t *testing.T) {
		t.Parallel()
		i := fakediscord.Command("/slow-modal")
		gateway(b, i)
		followup, err := tb.fake.WaitFollowup(waitCtx(t), i.Token)
		require.NoError(t, err)
		requireFriendlyError(t, followup.Content, followup.Flags, followup.AllowedMentions)
	})

	t.Run("ComponentUpdate", func(t *testing.T) {
		t.Parallel()
		i := fakediscord.Component("confirm/42")
		gateway(b, i)
		first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		require.Equal(t, discordgo.InteractionResponseDeferredMessageUpdate, first.Type)
		edit, err := tb.fake.WaitEdit(waitCtx(t), i.Token)
		require.NoError(t, err)
		require.Equal(t, "Confirmed.", edit.Content)
	})

	t.Run("ComponentNewMessage", func(t *testing.T) {
		t.Parallel()
		i := fakediscord.Component("again/42")
		gateway(b, i)
		followup, err := tb.fake.WaitFollowup(waitCtx(t), i.Token)
		require.NoError(t, err)
		require.Equal(t, "A new message.", followup.Content)
		require.False(t, tb.fake.Deleted(i.Token))
	})

	t.Run("FastHandlerNotDeferred", func(t *testing.T) {
		t.Parallel()
		fast, ftb := setup(t, Options{DeferAfter: time.Second},
			route("fast", func(context.Context, *Request) (*Response, error) { return Reply("quick"), nil }, false))
		i := fakediscord.Command("/fast")
		gateway(fast, i)
		first, err := ftb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		require.Equal(t, discordgo.InteractionResponseChannelMessageWithSource, first.Type)
		require.Equal(t, "quick", first.Content)
	})
}

func TestSlowCallerLoad(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	router := NewRouter(route("ping", func(context.Context, *Request) (*Response, error) { return Reply("fine"), nil }, false))
	router.Use(preferPrivate(func(context.Context, *Request) bool {
		<-release // a database that answers late
		return true
	}))
	b, tb := setupRouter(t, Options{DeferAfter: 50 * time.Millisecond}, router)

	// The deferral goes out while the caller loads, public since the
	// preference is not known yet; the private reply then replaces it.
	i := fakediscord.Command("/ping")
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		gateway(b, i)
	}()
	first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
	require.NoError(t, err)
	require.Equal(t, discordgo.InteractionResponseDeferredChannelMessageWithSource, first.Type)
	require.False(t, first.Ephemeral())
	close(release)
	<-handled
	followup, err := tb.fake.WaitFollowup(waitCtx(t), i.Token)
	require.NoError(t, err)
	require.Equal(t, "fine", followup.Content)
	require.True(t, followup.Ephemeral())
	require.True(t, tb.fake.Deleted(i.Token))
}

func TestFakeRateLimitIsRetried(t *testing.T) {
	t.Parallel()
	b, tb := setup(t, Options{}, route("ping", func(context.Context, *Request) (*Response, error) { return Reply("pong"), nil }, false))
	tb.fake.RateLimit(1)
	i := fakediscord.Command("/ping")
	gateway(b, i)
	first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
	require.NoError(t, err)
	require.Equal(t, "pong", first.Content)
}

func TestHandlerTimeout(t *testing.T) {
	t.Parallel()
	hang := func(ctx context.Context, _ *Request) (*Response, error) {
		<-ctx.Done() // a database that does not answer
		return nil, ctx.Err()
	}

	t.Run("BeforeTheDeferral", func(t *testing.T) {
		t.Parallel()
		b, tb := setup(t, Options{HandlerTimeout: 100 * time.Millisecond, DeferAfter: time.Second}, route("hang", hang, false))
		i := fakediscord.Command("/hang")
		gateway(b, i)
		first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		require.Equal(t, discordgo.InteractionResponseChannelMessageWithSource, first.Type)
		requireFriendlyError(t, first.Content, first.Flags, first.AllowedMentions)
	})

	t.Run("AfterTheDeferral", func(t *testing.T) {
		t.Parallel()
		b, tb := setup(t, Options{HandlerTimeout: 200 * time.Millisecond, DeferAfter: 50 * time.Millisecond}, route("hang", hang, false))
		i := fakediscord.Command("/hang")
		gateway(b, i)
		followup, err := tb.fake.WaitFollowup(waitCtx(t), i.Token)
		require.NoError(t, err)
		requireFriendlyError(t, followup.Content, followup.Flags, followup.AllowedMentions)
	})
}

func TestRefusedReplyFallsBack(t *testing.T) {
	t.Parallel()
	// Discord refuses an embed field without a value with 400.
	bad := &Response{Embeds: []*discordgo.MessageEmbed{{Title: "Nation", Fields: []*discordgo.MessageEmbedField{{Name: "Alliance"}}}}}
	var fake *fakediscord.Fake
	b, tb := setup(t, Options{DeferAfter: 50 * time.Millisecond},
		route("bad", func(context.Context, *Request) (*Response, error) { return bad, nil }, false),
		route("slow-bad", func(ctx context.Context, req *Request) (*Response, error) {
			_, err := fake.WaitResponse(ctx, req.Interaction.ID) // answers after the deferral
			return bad, err
		}, true),
	)
	fake = tb.fake

	t.Run("FirstResponse", func(t *testing.T) {
		t.Parallel()
		i := fakediscord.Command("/bad")
		gateway(b, i)
		first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		ref := requireFriendlyError(t, first.Content, first.Flags, first.AllowedMentions)
		require.Empty(t, first.Embeds)
		require.Contains(t, tb.logs.String(), ref)
		require.Contains(t, tb.logs.String(), "discord refused the reply")
	})

	t.Run("Edit", func(t *testing.T) {
		t.Parallel()
		i := fakediscord.Command("/slow-bad")
		gateway(b, i)
		first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		require.Equal(t, discordgo.InteractionResponseDeferredChannelMessageWithSource, first.Type)
		edit, err := tb.fake.WaitEdit(waitCtx(t), i.Token)
		require.NoError(t, err)
		ref := requireFriendlyError(t, edit.Content, first.Flags, edit.AllowedMentions)
		require.Empty(t, edit.Embeds)
		require.Contains(t, tb.logs.String(), ref)
	})
}

// preferPrivate is middleware that loads the caller's preference, as
// commands does, and makes the replies private when they prefer so.
func preferPrivate(prefers func(context.Context, *Request) bool) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Response, error) {
			if req.User != nil && prefers(ctx, req) {
				req.PreferPrivate()
			}
			return next(ctx, req)
		}
	}
}
