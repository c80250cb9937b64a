// Package bot runs pnwbot on Discord: the gateway session, the HTTP
// interactions endpoint, the router and the middleware every interaction goes
// through. Handlers (package commands) return responses; only this package
// talks to Discord.
package bot

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"
)

// A handler gets defaultHandlerTimeout (a hung database must not keep the
// user waiting for the token's 15 minutes); the reply then gets its own
// deliverTimeout, so that an error reply goes out even when the handler
// used up its time.
const (
	defaultHandlerTimeout = time.Minute
	deliverTimeout        = 10 * time.Second
)

// Discord wants a first response within 3 s. The auto-defer clock starts
// with the interaction (the caller load runs inside it), leaving 1 s for the
// deferral to reach Discord.
const defaultDeferAfter = 2 * time.Second

// Options configure a Bot.
type Options struct {
	// REST is the Discord client the bot answers with and opens the gateway
	// with (DialREST).
	REST *REST
	// GuildID registers the commands in one guild, instantly; empty registers
	// them globally.
	GuildID string
	// PublicKey enables InteractionsHandler.
	PublicKey ed25519.PublicKey
	Router    *Router
	// Limiter holds each user's rate limit; nil means none.
	Limiter Limiter
	// Replays remembers the ids of handled interactions, so that a repeat
	// is refused; nil means no check.
	Replays InteractionLog
	// Admit, when set, is both Replays and Limiter, and makes both checks
	// of an interaction in one step.
	Admit  Admitter
	Logger *slog.Logger
	// Registerer gets the interaction metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// DeferAfter is how long an interaction may take (the caller load
	// included) before the bot defers; zero means 2 s.
	DeferAfter time.Duration
	// HandlerTimeout bounds a handler; zero means 60 s.
	HandlerTimeout time.Duration
	// NoReconnect is for tests: discordgo would retry a vanished gateway
	// forever.
	NoReconnect bool
	// NoGateway opens no gateway session: interactions arrive only over
	// HTTP (InteractionsHandler).
	NoGateway bool
	// ShardID and ShardCount split the gateway between replicas; a
	// ShardCount of 0 means one shard, AutoShards asks Discord.
	ShardID, ShardCount int
	// RegisterOnce, when set, decides whether this replica registers the
	// commands: it runs register unless the definitions of this digest are
	// registered already, and never at the same time as another replica.
	// Nil registers at every start.
	RegisterOnce func(ctx context.Context, digest string, register func(context.Context) error) (registered bool, err error)
}

// AutoShards as Options.ShardCount takes the number of shards Discord
// recommends (GET /gateway/bot).
const AutoShards = -1

// Bot is a Discord session serving a router's commands.
type Bot struct {
	opts    Options
	rest    *REST
	session *discordgo.Session // rest's
	logger  *slog.Logger
	metrics *Metrics
	gateway *gatewayState
	// handlers are the router's handlers, each in the router's middleware
	// and the bot's, chained once.
	handlers map[routeKey]Handler

	// ctx outlives the requests that start handlers (an HTTP interaction's
	// handler goes on after its deferral is written); Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
}

// New builds the bot; Start connects it.
func New(opts Options) (*Bot, error) {
	if opts.REST == nil {
		return nil, errors.New("bot: no REST client")
	}
	if opts.Router == nil {
		return nil, errors.New("bot: no router")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.DeferAfter == 0 {
		opts.DeferAfter = defaultDeferAfter
	}
	if opts.HandlerTimeout == 0 {
		opts.HandlerTimeout = defaultHandlerTimeout
	}
	metrics, err := NewMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("bot: metrics: %w", err)
	}
	gw, err := newGatewayMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("bot: metrics: %w", err)
	}

	s := opts.REST.session
	s.Identify.Intents = discordgo.IntentsNone
	s.StateEnabled = false
	s.ShouldReconnectOnError = !opts.NoReconnect

	if opts.Admit != nil {
		opts.Replays, opts.Limiter = opts.Admit, opts.Admit
	}
	b := &Bot{opts: opts, rest: opts.REST, session: s, logger: opts.Logger, metrics: metrics, gateway: gw}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	middleware := []Middleware{Observe(b.logger, metrics), AutoDefer(opts.DeferAfter), Recover()}
	if opts.Limiter != nil {
		middleware = append(middleware, RateLimit(opts.Limiter, b.logger))
	}
	middleware = append(middleware, RejectBadText())
	b.handlers = map[routeKey]Handler{}
	for _, rt := range opts.Router.routes() {
		for _, auto := range []bool{false, true} {
			if h := rt.handler(auto); h != nil {
				b.handlers[routeKey{rt, auto}] = Chain(opts.Router.chain(h), middleware...)
			}
		}
	}
	s.AddHandler(b.onInteraction)
	s.AddHandler(func(s *discordgo.Session, _ *discordgo.Connect) {
		b.gateway.onConnect()
		b.logger.Info("gateway connected")
		if b.isClosed() {
			// discordgo's reconnect loop can reopen after Close.
			go s.Close() //nolint:errcheck
		}
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		b.gateway.set(false)
		b.logger.Info("gateway disconnected")
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) { b.logger.Info("gateway session resumed") })
	return b, nil
}

// Start opens this replica's shard of the gateway (unless NoGateway) and
// registers the router's commands with one bulk overwrite. discordgo
// reconnects on its own afterwards, resuming the session when it can.
func (b *Bot) Start(ctx context.Context) error {
	if !b.opts.NoGateway {
		if err := b.openGateway(ctx); err != nil {
			return err
		}
	}
	if err := b.register(ctx); err != nil {
		b.session.Close() //nolint:errcheck
		return err
	}
	return nil
}

// openGateway opens this replica's shard of the gateway.
func (b *Bot) openGateway(ctx context.Context) error {
	b.session.ShardID, b.session.ShardCount = b.opts.ShardID, max(b.opts.ShardCount, 1)
	if b.opts.ShardCount == AutoShards {
		gw, err := b.session.GatewayBot(discordgo.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("bot: ask Discord how many shards: %w", err)
		}
		b.session.ShardCount = max(gw.Shards, 1)
	}
	if b.session.ShardID >= b.session.ShardCount {
		return fmt.Errorf("bot: shard %d of %d: Discord recommends %d shards, so DISCORD_SHARD_ID goes from 0 to %d",
			b.session.ShardID, b.session.ShardCount, b.session.ShardCount, b.session.ShardCount-1)
	}
	if err := b.session.Open(); err != nil {
		return fmt.Errorf("bot: open gateway: %w", err)
	}
	// Up now, not when discordgo's goroutine runs the Connect handler, so
	// that readiness holds as soon as Start returns.
	b.gateway.set(true)
	b.logger.InfoContext(ctx, "gateway open", "shard_id", b.session.ShardID, "shard_count", b.session.ShardCount)
	return nil
}

// register puts the router's commands in place with one bulk overwrite,
// through RegisterOnce when set.
func (b *Bot) register(ctx context.Context) error {
	appID := b.rest.appID
	defs := b.opts.Router.Definitions()
	count := 0
	register := func(ctx context.Context) error {
		cmds, err := b.session.ApplicationCommandBulkOverwrite(appID, b.opts.GuildID, defs, discordgo.WithContext(ctx))
		count = len(cmds)
		return err
	}
	var err error
	registered := true
	if b.opts.RegisterOnce == nil {
		err = register(ctx)
	} else {
		raw, jerr := json.Marshal(struct {
			App, Guild string
			Commands   []*discordgo.ApplicationCommand
		}{appID, b.opts.GuildID, defs})
		if jerr != nil {
			return fmt.Errorf("bot: commands: %w", jerr)
		}
		sum := sha256.Sum256(raw)
		registered, err = b.opts.RegisterOnce(ctx, hex.EncodeToString(sum[:]), register)
	}
	if err != nil {
		return fmt.Errorf("bot: register commands: %w", err)
	}
	if registered {
		b.logger.InfoContext(ctx, "commands registered", "count", count, "guild_id", b.opts.GuildID)
	} else {
		b.logger.InfoContext(ctx, "commands already registered, as they are now (by another replica or an earlier start)", "guild_id", b.opts.GuildID)
	}
	return nil
}

// Close stops accepting interactions, closes the gateway and waits for the
// interactions in flight to finish. When ctx ends first, it cancels them.
func (b *Bot) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	err := b.session.Close()
	done := make(chan struct{})
	go func() {
		b.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("bot: interactions still running: %w", ctx.Err())
	}
	b.cancel()
	return err
}

func (b *Bot) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// track counts an interaction in flight, unless the bot is closing.
func (b *Bot) track() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.inflight.Add(1)
	return true
}

func (b *Bot) onInteraction(s *discordgo.Session, e *discordgo.InteractionCreate) {
	if !b.track() {
		return
	}
	defer b.inflight.Done()
	seen, verdict := b.firstTime(b.ctx, e.Interaction)
	if seen == replayed {
		return
	}
	b.handle(e.Interaction, seen, verdict, func(ctx context.Context, resp *discordgo.InteractionResponse) error {
		return s.InteractionRespond(e.Interaction, resp, discordgo.WithContext(ctx))
	})
}

// routeKey names one of a route's handlers: its Autocomplete or its Handler.
type routeKey struct {
	route        *Route
	autocomplete bool
}

// exchange is what the bot has told Discord about one interaction so far.
type exchange struct {
	// initial sends the first response: a REST callback for the gateway, the
	// HTTP response for the interactions endpoint.
	initial  func(context.Context, *discordgo.InteractionResponse) error
	deferred discordgo.InteractionResponseType // 0 until deferred
	// private is whether the deferral was ephemeral.
	private bool
	// deleted is whether a public deferral has been removed, to make way
	// for a private follow-up.
	deleted bool
}

// handle is the one code path of every interaction, from either transport.
// An interaction the replay check left unanswered runs no handler.
func (b *Bot) handle(i *discordgo.Interaction, seen admission, verdict *Verdict, initial func(context.Context, *discordgo.InteractionResponse) error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.opts.HandlerTimeout)
	defer cancel()
	req, route, auto := b.opts.Router.match(i)
	req.verdict = verdict
	x := &exchange{initial: initial}
	req.deferral = func(ctx context.Context) { b.deferResponse(ctx, req, x) }

	var resp *Response
	var err error
	if seen == unanswered {
		err = UserError(notChecked) // nothing runs, the middleware included
	} else {
		resp, err = b.handlers[routeKey{route, auto}](ctx, req)
	}
	if err == nil {
		err = resp.check()
	}
	if err == nil && x.deferred != 0 && (resp.Type == TypeModal || resp.Type == TypeChoices) {
		err = errors.New("a modal or autocomplete handler took too long and was deferred")
	}
	if err != nil {
		resp = errorResponse(ctx, b.logger, req, err)
	}
	resp = privateIfNeeded(req, resp)
	ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), deliverTimeout)
	defer cancel()
	if len(resp.Files) > 0 && x.deferred == 0 {
		b.deferResponse(ctx, req, x)
	}
	err = b.deliver(ctx, i, x, resp)
	if refused(err) {
		// Discord refused the reply (an embed over a limit, say): the user
		// gets the error message instead, and the log says why.
		err = b.deliver(ctx, i, x, errorResponse(ctx, b.logger, req, fmt.Errorf("discord refused the reply: %w", err)))
	}
	if err != nil {
		b.logger.ErrorContext(ctx, "reply failed", append(attrs(req), slog.Any("error", err))...)
	}
}

// refused reports whether Discord answered a request with a 4xx.
func refused(err error) bool {
	re, ok := errors.AsType[*discordgo.RESTError](err)
	return ok && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500
}

// deferResponse acknowledges the interaction so that the handler may take
// longer than 3 s: components as a deferred update of their message, the rest
// as a deferred message, private when the reply is known to be (a caller
// still loading makes it public; a private reply then follows it up).
func (b *Bot) deferResponse(ctx context.Context, req *Request, x *exchange) {
	private := req.private()
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if req.Interaction.Type == discordgo.InteractionMessageComponent {
		resp.Type = discordgo.InteractionResponseDeferredMessageUpdate
	} else if private {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	if err := x.initial(ctx, resp); err != nil {
		// Answering late beats not answering: deliver tries a first response.
		b.logger.WarnContext(ctx, "defer failed", append(attrs(req), slog.Any("error", err))...)
		return
	}
	x.deferred, x.private = resp.Type, private
}

// deliver sends the final response: as the first response when there was no
// deferral, else as an edit of the deferred message or as a follow-up.
func (b *Bot) deliver(ctx context.Context, i *discordgo.Interaction, x *exchange, resp *Response) error {
	opt := discordgo.WithContext(ctx)
	switch {
	case x.deferred == 0:
		return x.initial(ctx, resp.interactionResponse())
	case x.deferred == discordgo.InteractionResponseDeferredMessageUpdate && resp.Type == TypeMessage,
		x.deferred == discordgo.InteractionResponseDeferredChannelMessageWithSource && resp.Ephemeral && !x.private:
		// A new message after a deferred update, or a private one after a
		// public deferral (a message cannot turn private): a follow-up,
		// after removing the public "thinking" message.
		if x.deferred == discordgo.InteractionResponseDeferredChannelMessageWithSource && !x.deleted {
			if err := b.session.InteractionResponseDelete(i, opt); err != nil {
				return err
			}
			x.deleted = true
		}
		_, err := b.session.FollowupMessageCreate(i, true, resp.followup(), opt)
		return err
	default:
		_, err := b.session.InteractionResponseEdit(i, resp.edit(), opt)
		return err
	}
}
