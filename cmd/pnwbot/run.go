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

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/commands"
	"pnwbot/config"
	"pnwbot/ia"
	"pnwbot/jobs"
	"pnwbot/keys"
	"pnwbot/members"
	"pnwbot/pnw"
	"pnwbot/pnw/stream"
	"pnwbot/roles"
	"pnwbot/secrets"
	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/war"
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
	logs := newLogBuffer(os.Stderr)
	defer logs.Close()
	logger := setupLogger(cfg, logs)
	logger.Info("starting pnwbot", "version", buildVersion(), "config", cfg)
	a, err := start(ctx, cfg, logger, redisPrefix, host{})
	if err != nil {
		return err
	}
	return a.serve(ctx)
}

// app is a running pnwbot: everything start opened, for serve to close.
type app struct {
	logger          *slog.Logger
	reg             *prometheus.Registry
	checks          []web.Check // what /readyz pings, added by each step
	st              *store.Store
	rdb             *redis.Client // nil without REDIS_URL
	game            *pnw.Client
	bot             *bot.Bot
	server          *http.Server // HTTP_ADDR: health, readiness, interactions
	listener        net.Listener
	metrics         *http.Server // METRICS_ADDR: /metrics
	metricsListener net.Listener
	keys            *secrets.Keyring
	gameKeys        *keys.Keys   // newDomain's, the one the commands and the site also get: the demo links its members with it
	jobsDB          *store.Store // river's own pool
	jobs            *jobs.Runner
	site            *site.Site // nil when the web side is off
	war             *war.Service
	// followBank follows the alliances' bank record streams for the ledger
	// until its context ends; nil with PNW_SUBSCRIPTIONS=off.
	followBank func(context.Context)
	// unreadableKeys counts the stored keys the keyring does not open, as
	// of the last checkKeys.
	unreadableKeys atomic.Int64
}

// hotFor is how long a replica keeps the public game data it read,
// decoded, in its memory: a cached /nation or members page then costs no
// cache read. It bounds how long a replica serves data another replica
// invalidated (after a position change, say).
const hotFor = 2 * time.Second

// redisPrefix starts every key pnwbot writes to Redis.
const redisPrefix = "pnwbot:"

// connectTimeout bounds each connection made at start: a firewalled host
// fails the start with its cause instead of hanging until the OS gives up.
const connectTimeout = 15 * time.Second

// start builds pnwbot in one pass, one step per subsystem, each from what
// the steps before it built: the database (applying pending migrations),
// the storage backends (Redis keys under prefix), the game client, the
// keyring, Discord's REST client, the war room, the Linked Roles
// connections, the domain (keys, roles, bank, ia, access, the audit log),
// the commands, the bot, the web side, the job queue and the HTTP servers;
// then it connects the bot and starts the queue. h is what the caller
// decides about the HTTP server (nothing, for `pnwbot run`). On
// error it closes what it opened, and the error says what failed and what
// to do, on one line.
func start(ctx context.Context, cfg *config.Config, logger *slog.Logger, prefix string, h host) (_ *app, err error) {
	a := &app{logger: logger, reg: prometheus.NewRegistry(), listener: h.listener}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	connectCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()

	if err = a.openStore(ctx, connectCtx, cfg); err != nil {
		return nil, err
	}
	cfgs := settings.New(a.st, settings.Options{Logger: logger})
	backends, err := a.openBackends(connectCtx, cfg, cfgs, prefix)
	if err != nil {
		return nil, err
	}
	if err = a.openGame(connectCtx, cfg, cfgs, backends); err != nil {
		return nil, err
	}
	if a.keys, err = secrets.NewKeyring(cfg.EncryptionKey, cfg.EncryptionKeyOld); err != nil {
		return nil, err
	}
	a.watchKeys(ctx)
	rest, err := a.dialDiscord(connectCtx, cfg)
	if err != nil {
		return nil, err
	}
	a.newWar(cfg, rest)
	if a.jobsDB, err = store.Open(connectCtx, string(cfg.DatabaseURL), jobs.PoolSize); err != nil {
		return nil, todo(err, "check DATABASE_URL and that PostgreSQL is running")
	}
	notices, err := jobs.NewNotices(a.jobsDB)
	if err != nil {
		return nil, err
	}
	oauth, linked, err := a.newLinkedRoles(cfg, rest)
	if err != nil {
		return nil, err
	}
	dom := a.newDomain(cfg, cfgs, rest, notices, linked)
	if err = dom.access.BootstrapSuperAdmins(ctx, cfg.SuperAdminDiscordIDs); err != nil {
		return nil, err
	}
	in := commands.Deps{Store: a.st, Game: a.game, Keys: a.keys, Logger: logger, Settings: cfgs,
		DM: rest, Channels: rest, Notices: notices,
		GameKeys: dom.keys, Bank: dom.bank, Roles: dom.roles, IA: dom.ia, Members: dom.members, War: a.war, Access: dom.access, AuditLog: dom.log}
	if linked != nil {
		in.LinkedRoles = linked
	}
	deps := commands.New(in)
	if err = a.newBot(cfg, rest, deps.Router(), backends); err != nil {
		return nil, err
	}
	if err = a.newSite(cfg, oauth, linked, dom, backends); err != nil {
		return nil, err
	}
	if err = a.newJobs(cfgs, rest, dom, linked); err != nil {
		return nil, err
	}
	if err = a.newServers(cfg, h.front); err != nil {
		return nil, err
	}
	return a, a.connect(ctx, cfg, rest)
}

// openStore opens the database, applies pending migrations and exports
// the pool's metrics.
func (a *app) openStore(ctx, connectCtx context.Context, cfg *config.Config) error {
	var err error
	if a.st, err = store.Open(connectCtx, string(cfg.DatabaseURL), cfg.DatabasePoolSize); err != nil {
		return todo(err, "check DATABASE_URL and that PostgreSQL is running")
	}
	var migrated strings.Builder
	if err = store.Migrate(ctx, a.st.Pool, "up", &migrated); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	a.logger.Info("database migrated", "result", strings.TrimSpace(migrated.String()))
	a.checks = append(a.checks, web.Check{Name: "postgres", Ping: a.st.Pool.Ping})
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pnwbot_build_info", Help: "Always 1; the version label says which pnwbot runs.",
		ConstLabels: prometheus.Labels{"version": buildVersion()},
	})
	buildInfo.Set(1)
	a.reg.MustRegister(buildInfo, store.NewPoolCollector(a.st),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pnwbot_postgres_breaker_state",
		Help: "The PostgreSQL circuit breaker: 0 closed, 1 half-open (one query tries the database), 2 open (queries fail at once).",
	}, func() float64 { return float64(a.st.BreakerState()) }))
	return nil
}

// backends are where the rate limits, the game cache, recent interaction
// ids and web sessions live.
type backends struct {
	admit    bot.Admitter // recent interaction ids and commands per user
	lookups  bot.Limiter  // lookups per user that spend the bot's key
	cache    pnw.Cache
	sessions site.SessionCache // nil without Redis: each page asks PostgreSQL
	web      bot.Limiter       // web requests per address and per session
	once     bot.Limiter       // one audit row a minute per key, for the web side's refusals
}

// openBackends builds the storage backends: without Redis, in PostgreSQL;
// with it, in Redis while it answers (see kv.Failover).
func (a *app) openBackends(connectCtx context.Context, cfg *config.Config, cfgs *settings.Settings, prefix string) (backends, error) {
	failover, err := kv.NewFailover(a.reg, a.logger)
	if err != nil {
		return backends{}, err
	}
	userRate := func(ctx context.Context) bot.Rate { // per user
		return bot.Rate{Requests: cfgs.Int(ctx, settings.UserCommandsPerMinute), Window: time.Minute}
	}
	lookupRate := func(ctx context.Context) bot.Rate { // per user
		return bot.Rate{Requests: cfgs.Int(ctx, settings.UserLookupsPerDay), Window: 24 * time.Hour}
	}
	limiter := func(rate bot.RateFunc) bot.Limiter {
		var inRedis bot.Limiter
		if a.rdb != nil {
			inRedis = kv.NewRedisLimiter(a.rdb, prefix, rate)
		}
		return failover.Limiter(inRedis, kv.NewPostgresLimiter(a.st, rate), bot.NewMemoryLimiter(rate))
	}
	// The replay claim and the user's rate limit: one round trip to Redis.
	admitter := func() bot.Admitter {
		var inRedis *kv.RedisAdmitter
		if a.rdb != nil {
			inRedis = kv.NewRedisAdmitter(kv.NewRedisInteractionLog(a.rdb, prefix), kv.NewRedisLimiter(a.rdb, prefix, userRate))
		}
		return failover.Admitter(inRedis, kv.NewPostgresInteractionLog(a.st), kv.NewPostgresLimiter(a.st, userRate), bot.NewMemoryLimiter(userRate))
	}
	webRate := func(ctx context.Context) bot.Rate { // per address, per session
		return bot.Rate{Requests: cfgs.Int(ctx, settings.WebRequestsPerMinute), Window: time.Minute}
	}
	once := bot.FixedRate(bot.Rate{Requests: 1, Window: time.Minute})
	if cfg.RedisURL == "" {
		return backends{admit: admitter(), lookups: limiter(lookupRate), cache: kv.NewPostgresCache(a.st), web: limiter(webRate), once: limiter(once)}, nil
	}
	opts, err := redis.ParseURL(string(cfg.RedisURL))
	if err != nil {
		return backends{}, errors.New("REDIS_URL: not a valid redis:// URL")
	}
	// Else go-redis ignores ctx deadlines on the socket and a hung Redis
	// holds each call for its own socket timeouts, seconds long.
	opts.ContextTimeoutEnabled = true
	a.rdb = redis.NewClient(opts)
	if err := a.rdb.Ping(connectCtx).Err(); err != nil {
		return backends{}, todo(fmt.Errorf("connect to Redis at %s: %w", opts.Addr, err),
			"check REDIS_URL and that Redis is running, or unset REDIS_URL to keep the cache in PostgreSQL")
	}
	// While Redis is down the bot serves from PostgreSQL: still ready.
	a.checks = append(a.checks, web.Check{Name: "redis", Ping: func(ctx context.Context) error { return a.rdb.Ping(ctx).Err() },
		Fallback: "the PostgreSQL fallback"})
	return backends{
		admit:    admitter(),
		lookups:  limiter(lookupRate),
		cache:    failover.Cache(kv.NewRedisCache(a.rdb, prefix+"cache:"), kv.NewPostgresCache(a.st)),
		sessions: kv.NewSessionCache(a.rdb, prefix, secrets.MACKey(cfg.EncryptionKey, "session cache")),
		web:      limiter(webRate),
		once:     limiter(once),
	}, nil
}

// openGame builds the game client and checks the bot's own key with it.
func (a *app) openGame(connectCtx context.Context, cfg *config.Config, cfgs *settings.Settings, b backends) error {
	var err error
	a.game, err = pnw.New(pnw.Options{
		URL: cfg.PNWAPIURL, APIKey: string(cfg.PNWAPIKey), BotKey: string(cfg.PNWBotKey),
		Cache: b.cache, Usage: kv.NewUsage(a.st), Allowance: b.lookups, Registerer: a.reg, Logger: a.logger,
		TTL: func(ctx context.Context, kind string) time.Duration {
			if k, ok := settings.CacheTTL[kind]; ok {
				return cfgs.Seconds(ctx, k)
			}
			return pnw.DefaultTTL
		},
		HotFor: hotFor,
	})
	if err != nil {
		return err
	}
	return checkGameKey(connectCtx, a.game, string(cfg.PNWAPIKey), a.logger)
}

// watchKeys counts the stored keys the keyring does not open, now and
// (keysLoop) hourly, for /readyz and a metric.
func (a *app) watchKeys(ctx context.Context) {
	a.checkKeys(ctx)
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pnwbot_stored_keys_unreadable",
		Help: "Stored API keys that do not open with ENCRYPTION_KEY (or ENCRYPTION_KEY_OLD): their owners must link them again. Checked at start and hourly.",
	}, func() float64 { return float64(a.unreadableKeys.Load()) }))
}

// dialDiscord builds Discord's REST client, checking the token and reading
// the application's id: the commands, the web side and the jobs get it
// when they are built.
func (a *app) dialDiscord(connectCtx context.Context, cfg *config.Config) (*bot.REST, error) {
	rest, err := bot.DialREST(connectCtx, bot.RESTOptions{Token: string(cfg.DiscordToken), APIBaseURL: cfg.DiscordAPIURL,
		Logger: a.logger, Registerer: a.reg})
	switch {
	case errors.Is(err, bot.ErrTokenRefused):
		return nil, todo(errors.New("DISCORD_TOKEN: Discord refused the token"),
			"copy it again from the Bot tab at https://discord.com/developers/applications (Reset Token)")
	case err != nil:
		return nil, todo(err, "check the network, DISCORD_API_URL, and https://discordstatus.com")
	}
	return rest, nil
}

// newWar builds the war room's service: its stream (none when
// PNW_SUBSCRIPTIONS=off) follows once serve runs, its poll is a pass.
func (a *app) newWar(cfg *config.Config, rest *bot.REST) {
	var warStream *stream.Client
	if cfg.PNWSubscriptions {
		warStream = stream.New(stream.Options{SubscriptionsURL: cfg.PNWSubscriptionsURL, SocketURL: cfg.PNWSocketURL,
			APIKey: string(cfg.PNWAPIKey), Positions: war.Positions{Store: a.st}, Logger: a.logger, Registerer: a.reg})
	}
	a.war = war.New(war.Options{Store: a.st, Game: a.game, Notifier: commands.WarAlerts{Discord: rest}, Stream: warStream,
		Logger: a.logger, Registerer: a.reg})
}

// domain is the floor the three front doors call, built once by newDomain:
// the commands, the web side, the jobs and the demo get these, one of each.
type domain struct {
	log     audit.Log
	access  access.Changes
	keys    *keys.Keys
	roles   *roles.Roles
	bank    *bank.Bank
	ia      *ia.Service
	members *members.Members
}

// newDomain builds the domain on the store, the game, the keyring, the
// settings and Discord's REST client: keys tell the owner of a revoked key
// through the durable notices, roles keep the Linked Roles connections
// (linked; nil when the web side is off) in step with each alliance's
// members. The demo links its members with these keys; with
// PNW_SUBSCRIPTIONS on, the bank follows the alliances' bank record
// streams once serve runs.
func (a *app) newDomain(cfg *config.Config, cfgs *settings.Settings, rest *bot.REST, notices *jobs.Notices, linked *roles.Linked) domain {
	auditLog := audit.Log{Store: a.st, Logger: a.logger}
	notify := bot.Notifier{Messenger: notices, Logger: a.logger}
	gameKeys := keys.New(keys.Options{Store: a.st, Game: a.game, Ring: a.keys, Notify: notify, Logger: a.logger})
	var connections roles.Connections // none without the web side
	if linked != nil {
		connections = linked
	}
	d := domain{
		log:    auditLog,
		access: access.Changes{Log: auditLog},
		keys:   gameKeys,
		roles: roles.New(roles.Options{Store: a.st, Game: a.game, Guilds: commands.RoleGuilds{Discord: rest}, Connections: connections,
			Keys: gameKeys, Logger: a.logger}),
		bank: bank.New(bank.Options{Store: a.st, Game: a.game, Keys: gameKeys, Settings: cfgs, Logger: a.logger}),
		ia: ia.New(ia.Options{Store: a.st, Game: a.game, Keys: gameKeys, Guild: commands.IAGuild{Discord: rest},
			Notifier: commands.IANotices{Discord: rest, Notices: notify}, Logger: a.logger}),
		members: members.New(members.Options{Store: a.st, Game: a.game, Keys: gameKeys, Logger: a.logger}),
	}
	a.gameKeys = d.keys
	if cfg.PNWSubscriptions {
		a.followBank = func(ctx context.Context) {
			d.bank.Follow(ctx, func(key string) *stream.Client {
				return stream.New(stream.Options{SubscriptionsURL: cfg.PNWSubscriptionsURL, SocketURL: cfg.PNWSocketURL, APIKey: key, Logger: a.logger})
			})
		}
	}
	return d
}

// newBot builds the bot serving router, not connected yet.
func (a *app) newBot(cfg *config.Config, rest *bot.REST, router *bot.Router, b backends) error {
	shards := cfg.DiscordShardCount
	if shards == 0 {
		shards = bot.AutoShards
	}
	var err error
	a.bot, err = bot.New(bot.Options{
		REST: rest, GuildID: cfg.DiscordGuildID,
		PublicKey: cfg.DiscordPublicKey, Router: router, Admit: b.admit,
		Logger: a.logger, Registerer: a.reg,
		NoGateway: !cfg.DiscordGateway, ShardID: cfg.DiscordShardID, ShardCount: shards,
		RegisterOnce: kv.RegisterOnce(a.st),
	})
	if err != nil {
		return err
	}
	if cfg.DiscordGateway {
		a.checks = append(a.checks, web.Check{Name: "discord_gateway", Ping: a.bot.CheckGateway})
	}
	return nil
}

// newLinkedRoles builds, when the web side is configured, its OAuth2
// client at Discord and the Linked Roles connections written with the
// grants users give it: the commands (/link, /unlink, /delete-account),
// the site and the jobs all keep them in step. Both nil when it is off.
func (a *app) newLinkedRoles(cfg *config.Config, rest *bot.REST) (*site.OAuth, *roles.Linked, error) {
	if !cfg.WebEnabled() {
		return nil, nil, nil
	}
	oauth, err := site.NewOAuth(site.OAuthOptions{Store: a.st, Keys: a.keys,
		DiscordURL: cfg.DiscordAPIURL, ClientID: rest.ApplicationID(), ClientSecret: string(cfg.DiscordClientSecret),
		PublicURL: cfg.PublicURL, Logger: a.logger})
	if err != nil {
		return nil, nil, err
	}
	return oauth, roles.NewLinked(roles.LinkedOptions{Store: a.st, Game: a.game, Writer: oauth, Logger: a.logger}), nil
}

// newSite builds the web side when it is configured.
func (a *app) newSite(cfg *config.Config, oauth *site.OAuth, linked *roles.Linked, dom domain, b backends) error {
	if !cfg.WebEnabled() {
		return nil
	}
	var err error
	a.site, err = site.New(site.Options{
		Store: a.st, Sessions: b.sessions, Game: a.game, Keys: dom.keys, Bank: dom.bank, Audit: dom.ia.Auditor,
		OAuth: oauth, Linked: linked, Requests: b.web, Once: b.once, TrustedProxies: cfg.TrustedProxies, Registerer: a.reg,
		PublicURL: cfg.PublicURL, Logger: a.logger,
	})
	return err
}

// period reads a job period from app_config each time the runner asks, so
// /admin config changes it without a restart.
func period(cfgs *settings.Settings, k settings.Key) func() time.Duration {
	return func() time.Duration { return cfgs.Seconds(context.Background(), k) }
}

// newJobs builds the job queue's runner: the periodic passes and the
// notices' delivery.
func (a *app) newJobs(cfgs *settings.Settings, rest *bot.REST, dom domain, linked *roles.Linked) error {
	passes := []jobs.Pass{
		{Name: "retention", Every: period(cfgs, settings.RetentionInterval), Run: func(ctx context.Context) (any, error) { return a.st.Prune(ctx, time.Now()) }},
		{Name: "key_check", Every: period(cfgs, settings.KeyVerificationInterval), Run: func(ctx context.Context) (any, error) { return dom.keys.Verify(ctx) }},
		{Name: "withdrawals_settle", Every: period(cfgs, settings.SettleInterval), Run: func(ctx context.Context) (any, error) { return dom.bank.Settle(ctx) }},
		{Name: "role_sync", Every: period(cfgs, settings.RoleSyncInterval), Run: func(ctx context.Context) (any, error) { return dom.roles.SyncAll(ctx) }},
		{Name: "war_poll", Every: period(cfgs, settings.WarPollInterval), Run: func(ctx context.Context) (any, error) { return a.war.Poll(ctx) }},
		{Name: "audit", Every: period(cfgs, settings.AuditInterval), Run: func(ctx context.Context) (any, error) { return dom.ia.Pass(ctx) }},
		{Name: "bank_ingest", Every: period(cfgs, settings.BankIngestInterval), Run: func(ctx context.Context) (any, error) { return dom.bank.Ingest(ctx) }},
	}
	if linked != nil {
		passes = append(passes, jobs.Pass{Name: "linked_roles", Every: period(cfgs, settings.LinkedRolesInterval),
			Run: func(ctx context.Context) (any, error) { return linked.RefreshRoleConnections(ctx) }})
	}
	var err error
	a.jobs, err = jobs.New(jobs.Options{Store: a.jobsDB, Logger: a.logger, Registerer: a.reg, DM: rest, Passes: passes})
	return err
}

// host is what a caller of start decides about the HTTP server: a
// listener it opened on HTTP_ADDR, because PUBLIC_URL names its port (kept
// open so that nothing takes the port meanwhile; the app closes it), and a
// handler put in front of the server's, given the store (the demo's page).
type host struct {
	listener net.Listener
	front    func(*store.Store, http.Handler) http.Handler
}

// listen opens the HTTP server's listener on addr (HTTP_ADDR).
func listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, todo(fmt.Errorf("HTTP_ADDR: %w", err), "set HTTP_ADDR to a free port, or stop what listens there")
	}
	return l, nil
}

// newServers opens the HTTP listeners, unless start was given one, and
// builds their servers.
func (a *app) newServers(cfg *config.Config, front func(*store.Store, http.Handler) http.Handler) error {
	var err error
	if a.listener == nil {
		if a.listener, err = listen(cfg.HTTPAddr); err != nil {
			return err
		}
	}
	if a.metricsListener, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
		return todo(fmt.Errorf("METRICS_ADDR: %w", err), "set METRICS_ADDR to a free port, or stop what listens there")
	}
	var pages http.Handler
	if a.site != nil {
		pages = a.site.Handler()
	}
	var inFront func(http.Handler) http.Handler
	if front != nil {
		inFront = func(h http.Handler) http.Handler { return front(a.st, h) }
	}
	a.server = web.New(web.Options{Checks: a.checks, Details: a.readyDetails, Interactions: a.bot.InteractionsHandler(), Site: pages,
		Front: inFront, Logger: a.logger})
	a.metrics = web.NewMetrics(cfg.MetricsAddr, a.reg, a.logger)
	return nil
}

// connect opens the bot's gateway and registers its commands, starts the
// job queue, and registers the Linked Roles metadata when the web side is
// on.
func (a *app) connect(ctx context.Context, cfg *config.Config, rest *bot.REST) error {
	if err := a.bot.Start(ctx); err != nil {
		return todo(err, "check the network, DISCORD_API_URL, and https://discordstatus.com")
	}
	// Not ctx: its end would cancel jobs in flight at once; close stops
	// them gracefully instead.
	if err := a.jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the job queue: %w", err)
	}
	if a.site == nil {
		a.logger.Info("web side off: set DISCORD_CLIENT_SECRET and PUBLIC_URL to turn on sign-in, the dashboard and Linked Roles")
	} else if err := rest.RegisterRoleMetadata(site.RoleMetadata); err != nil {
		// Sign-in and the dashboard work without it; Linked Roles do not.
		a.logger.Warn("Linked Roles metadata not registered: servers cannot require a verified nation until the next start", "error", err)
	} else {
		a.logger.Info("web side on", "public_url", cfg.PublicURL, "linked_roles_metadata", len(site.RoleMetadata))
	}
	return nil
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
	warDone := make(chan struct{})
	go func() {
		defer close(warDone)
		a.war.Follow(keysCtx)
	}()
	bankDone := make(chan struct{})
	go func() {
		defer close(bankDone)
		if a.followBank != nil {
			a.followBank(keysCtx)
		}
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
	<-keysDone // they use the store, closed last
	<-warDone
	<-bankDone
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
	details := []string{fmt.Sprintf("unreadable stored keys: %d", a.unreadableKeys.Load())}
	if down := a.war.StreamDown(); down != "" {
		details = append(details, "war stream: "+down)
	}
	return details
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
