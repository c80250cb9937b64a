package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"pnwbot/bot"
	"pnwbot/commands"
	"pnwbot/config"
	"pnwbot/jobs"
	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/web"
	"pnwbot/web/site"
)

// Shutdown budgets: the sum stays under docker-compose.yml's 30 s
// stop_grace_period, and the usage log's flush keeps its own share however
// long interactions in flight take.
const (
	drainTimeout = 15 * time.Second // HTTP requests, interactions and jobs in flight
	flushTimeout = 10 * time.Second // the game client's usage log
	// keysInterval is how often each replica counts the stored keys that
	// no longer open, for its /readyz and metric.
	keysInterval = time.Hour
)

// run starts pnwbot and blocks until SIGINT or SIGTERM, then shuts down.
func run(ctx context.Context, cfg *config.Config) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := setupLogger(cfg)
	logger.Info("starting pnwbot", "version", buildVersion(), "config", cfg)
	a, err := start(ctx, cfg, logger, redisPrefix)
	if err != nil {
		return err
	}
	return a.serve(ctx)
}

// app is a running pnwbot: everything start opened, for serve to close.
type app struct {
	logger          *slog.Logger
	st              *store.Store
	rdb             *redis.Client // nil without REDIS_URL
	game            *pnw.Client
	bot             *bot.Bot
	server          *http.Server // HTTP_ADDR: health, readiness, interactions
	listener        net.Listener
	metrics         *http.Server // METRICS_ADDR: /metrics
	metricsListener net.Listener
	keys            *secrets.Keyring
	jobsDB          *store.Store // river's own pool
	jobs            *jobs.Runner
	site            *site.Site // nil when the web side is off
	// unreadableKeys counts the stored keys the keyring does not open, as
	// of the last checkKeys.
	unreadableKeys atomic.Int64
}

// redisPrefix starts every key pnwbot writes to Redis.
const redisPrefix = "pnwbot:"

// connectTimeout bounds each connection made at start: a firewalled host
// fails the start with its cause instead of hanging until the OS gives up.
const connectTimeout = 15 * time.Second

// start opens the database (applying pending migrations), Redis (keys under
// prefix), the game client, the HTTP listener and the Discord session. On
// error it closes what it opened, and the error says what failed and what to
// do, on one line.
func start(ctx context.Context, cfg *config.Config, logger *slog.Logger, prefix string) (_ *app, err error) {
	a := &app{logger: logger}
	defer func() {
		if err != nil {
			a.close()
		}
	}()

	connectCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if a.st, err = store.Open(connectCtx, string(cfg.DatabaseURL), cfg.DatabasePoolSize); err != nil {
		return nil, todo(err, "check DATABASE_URL and that PostgreSQL is running")
	}
	var migrated strings.Builder
	if err = store.Migrate(ctx, a.st.Pool, "up", &migrated); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	logger.Info("database migrated", "result", strings.TrimSpace(migrated.String()))
	checks := []web.Check{{Name: "postgres", Ping: a.st.Pool.Ping}}
	reg := prometheus.NewRegistry()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pnwbot_build_info", Help: "Always 1; the version label says which pnwbot runs.",
		ConstLabels: prometheus.Labels{"version": buildVersion()},
	})
	buildInfo.Set(1)
	reg.MustRegister(buildInfo, store.NewPoolCollector(a.st),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pnwbot_postgres_breaker_state",
		Help: "The PostgreSQL circuit breaker: 0 closed, 1 half-open (one query tries the database), 2 open (queries fail at once).",
	}, func() float64 { return float64(a.st.BreakerState()) }))
	failover, err := kv.NewFailover(reg, logger)
	if err != nil {
		return nil, err
	}
	// Without Redis, cache, rate limits and recent interaction ids live in
	// PostgreSQL; with it, in Redis while it answers (see kv.Failover).
	cfgs := settings.New(a.st, logger)
	userRate := func(ctx context.Context) bot.Rate { // per user
		return bot.Rate{Requests: cfgs.Int(ctx, settings.UserCommandsPerMinute), Window: time.Minute}
	}
	lookupRate := func(ctx context.Context) bot.Rate { // per user
		return bot.Rate{Requests: cfgs.Int(ctx, settings.UserLookupsPerDay), Window: 24 * time.Hour}
	}
	pgLimiter, memLimiter := kv.NewPostgresLimiter(a.st, userRate), bot.NewMemoryLimiter(userRate)
	pgLookups, memLookups := kv.NewPostgresLimiter(a.st, lookupRate), bot.NewMemoryLimiter(lookupRate)
	var cache pnw.Cache = kv.NewPostgresCache(a.st)
	limiter := failover.Limiter(nil, pgLimiter, memLimiter)
	lookups := failover.Limiter(nil, pgLookups, memLookups)
	var replays bot.InteractionLog = kv.NewPostgresInteractionLog(a.st)
	var sessions site.SessionCache // nil without Redis: each page asks PostgreSQL
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(string(cfg.RedisURL))
		if err != nil {
			return nil, errors.New("REDIS_URL: not a valid redis:// URL")
		}
		// Else go-redis ignores ctx deadlines on the socket and a hung Redis
		// holds each call for its own socket timeouts, seconds long.
		opts.ContextTimeoutEnabled = true
		a.rdb = redis.NewClient(opts)
		if err := a.rdb.Ping(connectCtx).Err(); err != nil {
			return nil, todo(fmt.Errorf("connect to Redis at %s: %w", opts.Addr, err),
				"check REDIS_URL and that Redis is running, or unset REDIS_URL to keep the cache in PostgreSQL")
		}
		cache = failover.Cache(kv.NewRedisCache(a.rdb, prefix+"cache:"), cache)
		limiter = failover.Limiter(kv.NewRedisLimiter(a.rdb, prefix, userRate), pgLimiter, memLimiter)
		lookups = failover.Limiter(kv.NewRedisLimiter(a.rdb, prefix, lookupRate), pgLookups, memLookups)
		replays = failover.InteractionLog(kv.NewRedisInteractionLog(a.rdb, prefix), replays)
		sessions = kv.NewSessionCache(a.rdb, prefix)
		// While Redis is down the bot serves from PostgreSQL: still ready.
		checks = append(checks, web.Check{Name: "redis", Ping: func(ctx context.Context) error { return a.rdb.Ping(ctx).Err() },
			Fallback: "the PostgreSQL fallback"})
	}

	a.game, err = pnw.New(pnw.Options{
		URL: cfg.PNWAPIURL, APIKey: string(cfg.PNWAPIKey), BotKey: string(cfg.PNWBotKey),
		Cache: cache, Usage: kv.NewUsage(a.st), Allowance: lookups, Registerer: reg, Logger: logger,
		TTL: func(ctx context.Context, kind string) time.Duration {
			return cfgs.Seconds(ctx, settings.CacheTTL[kind])
		},
	})
	if err != nil {
		return nil, err
	}
	if err = checkGameKey(connectCtx, a.game, string(cfg.PNWAPIKey), logger); err != nil {
		return nil, err
	}
	if a.keys, err = secrets.NewKeyring(cfg.EncryptionKey, cfg.EncryptionKeyOld); err != nil {
		return nil, err
	}
	a.checkKeys(ctx)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pnwbot_stored_keys_unreadable",
		Help: "Stored API keys that do not open with ENCRYPTION_KEY (or ENCRYPTION_KEY_OLD): their owners must link them again. Checked at start and hourly.",
	}, func() float64 { return float64(a.unreadableKeys.Load()) }))
	deps := &commands.Deps{Store: a.st, Game: a.game, Keys: a.keys, Logger: logger, Settings: cfgs}
	router := deps.Router()
	if err = deps.BootstrapSuperAdmins(ctx, cfg.SuperAdminDiscordIDs); err != nil {
		return nil, err
	}

	shards := cfg.DiscordShardCount
	if shards == 0 {
		shards = bot.AutoShards
	}
	a.bot, err = bot.New(bot.Options{
		Token: string(cfg.DiscordToken), APIBaseURL: cfg.DiscordAPIURL, GuildID: cfg.DiscordGuildID,
		PublicKey: cfg.DiscordPublicKey, Router: router, Limiter: limiter, Replays: replays,
		Logger: logger, Registerer: reg,
		NoGateway: !cfg.DiscordGateway, ShardID: cfg.DiscordShardID, ShardCount: shards,
		RegisterOnce: kv.RegisterOnce(a.st),
	})
	if err != nil {
		return nil, err
	}
	deps.DM = a.bot
	deps.Guilds = a.bot
	if cfg.DiscordGateway {
		checks = append(checks, web.Check{Name: "discord_gateway", Ping: a.bot.CheckGateway})
	}
	if a.listener, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, todo(fmt.Errorf("HTTP_ADDR: %w", err), "set HTTP_ADDR to a free port, or stop what listens there")
	}
	if a.metricsListener, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
		return nil, todo(fmt.Errorf("METRICS_ADDR: %w", err), "set METRICS_ADDR to a free port, or stop what listens there")
	}
	var pages http.Handler
	if cfg.WebEnabled() {
		a.site, err = site.New(site.Options{
			Store: a.st, Sessions: sessions, Game: a.game, Keys: a.keys, Bank: deps.Bank.Holdings,
			DiscordURL: cfg.DiscordAPIURL, ClientID: a.bot.ApplicationID, ClientSecret: string(cfg.DiscordClientSecret),
			PublicURL: cfg.PublicURL, Logger: logger,
		})
		if err != nil {
			return nil, err
		}
		deps.LinkedRoles = a.site
		pages = a.site.Handler()
	}
	passes := []jobs.Pass{
		{Name: "retention", Every: cfgs.Seconds(ctx, settings.RetentionInterval), Run: func(ctx context.Context) (any, error) { return a.st.Prune(ctx, time.Now()) }},
		{Name: "key_check", Every: cfgs.Seconds(ctx, settings.KeyVerificationInterval), Run: func(ctx context.Context) (any, error) { return deps.GameKeys.Verify(ctx) }},
		{Name: "withdrawals_settle", Every: cfgs.Seconds(ctx, settings.SettleInterval), Run: func(ctx context.Context) (any, error) { return deps.Bank.Settle(ctx) }},
		{Name: "role_sync", Every: cfgs.Seconds(ctx, settings.RoleSyncInterval), Run: func(ctx context.Context) (any, error) { return deps.SyncAllRoles(ctx) }},
	}
	if a.site != nil {
		passes = append(passes, jobs.Pass{Name: "linked_roles", Every: cfgs.Seconds(ctx, settings.LinkedRolesInterval),
			Run: func(ctx context.Context) (any, error) { return a.site.RefreshRoleConnections(ctx) }})
	}
	if a.jobsDB, err = store.Open(connectCtx, string(cfg.DatabaseURL), jobs.PoolSize); err != nil {
		return nil, todo(err, "check DATABASE_URL and that PostgreSQL is running")
	}
	if a.jobs, err = jobs.New(jobs.Options{Pool: a.jobsDB.Pool, Logger: logger, Registerer: reg, DM: a.bot, Passes: passes}); err != nil {
		return nil, err
	}
	deps.Notices = a.jobs
	a.server = web.New(web.Options{Checks: checks, Details: a.readyDetails, Interactions: a.bot.InteractionsHandler(), Site: pages, Logger: logger})
	a.metrics = web.NewMetrics(cfg.MetricsAddr, reg, logger)
	switch err = a.bot.Start(ctx); {
	case errors.Is(err, bot.ErrTokenRefused):
		return nil, todo(errors.New("DISCORD_TOKEN: Discord refused the token"),
			"copy it again from the Bot tab at https://discord.com/developers/applications (Reset Token)")
	case err != nil:
		return nil, todo(err, "check the network, DISCORD_API_URL, and https://discordstatus.com")
	}
	// Not ctx: its end would cancel jobs in flight at once; close stops
	// them gracefully instead.
	if err = a.jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("start the job queue: %w", err)
	}
	if a.site == nil {
		logger.Info("web side off: set DISCORD_CLIENT_SECRET and PUBLIC_URL to turn on sign-in, the dashboard and Linked Roles")
	} else if err := a.bot.RegisterRoleMetadata(site.RoleMetadata); err != nil {
		// Sign-in and the dashboard work without it; Linked Roles do not.
		logger.Warn("Linked Roles metadata not registered: servers cannot require a verified nation until the next start", "error", err)
	} else {
		logger.Info("web side on", "public_url", cfg.PublicURL, "linked_roles_metadata", len(site.RoleMetadata))
	}
	return a, nil
}

// checkGameKey asks the game about the bot's own key (one `me` query). A
// refused key stops the start; a game that is down or rate limited does not,
// since the bot still answers what it has cached.
func checkGameKey(ctx context.Context, game *pnw.Client, key string, logger *slog.Logger) error {
	info, err := game.Me(ctx, key)
	switch {
	case errors.Is(err, pnw.ErrInvalidKey), errors.Is(err, pnw.ErrPermission):
		return todo(fmt.Errorf("PNW_API_KEY: the game refuses this key: %w", err),
			"copy it again from Account → API Key in the game (or generate a new one there)")
	case err != nil:
		logger.WarnContext(ctx, "could not check PNW_API_KEY with the game; starting anyway", "error", err)
	default:
		logger.InfoContext(ctx, "PNW_API_KEY accepted", "nation_id", info.Nation.Id)
	}
	return nil
}

// todo adds to a failed start's cause what the operator should do about it,
// on one line: pgx, for one, lists each address it tried on a line of its own.
func todo(cause error, what string) error {
	var lines []string
	for _, l := range strings.Split(cause.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return &startError{cause: cause, text: strings.Join(lines, " ") + "; " + what}
}

// startError is a failed start's cause, flattened to one line, and what to do.
type startError struct {
	cause error
	text  string
}

func (e *startError) Error() string { return e.text }
func (e *startError) Unwrap() error { return e.cause }

// serve runs the HTTP servers until ctx ends, then shuts down.
func (a *app) serve(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- a.server.Serve(a.listener) }()
	go func() { errc <- a.metrics.Serve(a.metricsListener) }()
	keysCtx, stopKeys := context.WithCancel(ctx)
	keysDone := make(chan struct{})
	go func() {
		defer close(keysDone)
		a.keysLoop(keysCtx)
	}()
	a.logger.Info("pnwbot is running", "http", a.listener.Addr().String(), "metrics", a.metricsListener.Addr().String())

	var err error
	select {
	case <-ctx.Done():
		a.logger.Info("shutting down")
	case err = <-errc:
		err = fmt.Errorf("HTTP server: %w", err)
	}
	stopKeys()
	<-keysDone // it uses the store, closed last
	a.close()
	return err
}

// close stops, in reverse order of start, whatever start opened.
func (a *app) close() {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for _, srv := range []*http.Server{a.server, a.metrics} {
		if srv != nil {
			if err := srv.Shutdown(ctx); err != nil {
				a.logger.Warn("HTTP shutdown", "addr", srv.Addr, "error", err)
			}
		}
	}
	for _, l := range []net.Listener{a.listener, a.metricsListener} {
		if l != nil {
			l.Close() // when start failed before Serve took it over
		}
	}
	if a.jobs != nil { // before the bot its notices use
		if err := a.jobs.Stop(ctx); err != nil {
			a.logger.Warn("job queue shutdown", "error", err)
		}
	}
	if a.jobsDB != nil {
		a.jobsDB.Close()
	}
	if a.bot != nil {
		if err := a.bot.Close(ctx); err != nil {
			a.logger.Warn("bot shutdown", "error", err)
		}
	}
	if a.game != nil {
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		if err := a.game.Close(ctx); err != nil {
			a.logger.Warn("game client shutdown", "error", err)
		}
	}
	if a.rdb != nil {
		a.rdb.Close()
	}
	if a.st != nil {
		a.st.Close()
	}
}

// checkKeys counts the stored keys that no longer open, for /readyz and
// the metric; /me tells each owner.
func (a *app) checkKeys(ctx context.Context) {
	bad, err := secrets.Unreadable(ctx, kv.KeyTables(a.st), a.keys, 500)
	if err != nil {
		if ctx.Err() == nil {
			a.logger.Error("check stored keys", "error", err)
		}
		return
	}
	a.unreadableKeys.Store(int64(len(bad)))
	if len(bad) > 0 {
		a.logger.Warn("stored keys do not open with ENCRYPTION_KEY: their owners must link them again", "count", len(bad))
	}
}

// readyDetails are the lines /readyz adds to its answer.
func (a *app) readyDetails() []string {
	return []string{fmt.Sprintf("unreadable stored keys: %d", a.unreadableKeys.Load())}
}

// keysLoop counts the stored keys that no longer open, hourly (start did
// the first count), and keeps the game's count of PNW_API_KEY's requests
// current when no answer has reported it.
func (a *app) keysLoop(ctx context.Context) {
	t := time.NewTicker(keysInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.checkKeys(ctx)
		if err := a.game.RecheckBudget(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("could not read PNW_API_KEY's request count from the game", "error", err)
		}
	}
}
