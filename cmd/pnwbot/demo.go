package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"

	"pnwbot/bot/fakediscord"
	"pnwbot/config"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/web/demo"
)

// The demo recreates its own database, demoDatabase, at each start on the
// PostgreSQL server DATABASE_URL points at (by default the one the test
// command starts): the fake world lives in memory, so the data must start
// afresh with it, and DATABASE_URL's own database is never touched.
const (
	demoDatabase      = "pnwbot_demo"
	demoDefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	demoDefaultAddr   = "127.0.0.1:8080"
)

// runDemo runs pnwbot, as `pnwbot run` does, against a fake Discord and a
// fake game holding a small world, with /demo on HTTP_ADDR to play Discord's
// client.
func runDemo(ctx context.Context, getenv func(string) string) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	server := getenv(config.DatabaseURL)
	if server == "" {
		server = demoDefaultServer
	}
	databaseURL, err := recreateDatabase(ctx, server, demoDatabase)
	if err != nil {
		return err
	}
	a, stopFakes, err := startDemo(ctx, getenv, databaseURL)
	if err != nil {
		return err
	}
	defer stopFakes()
	fmt.Fprintf(os.Stderr, "\npnwbot demo is running: open %s/demo (Ctrl-C stops it)\n\n", localURL(a.listener.Addr()))
	return a.serve(ctx)
}

// startDemo starts the fakes, fills the game with the demo's world, and
// starts pnwbot against them on databaseURL with /demo mounted; stopFakes
// stops the fakes once the app is closed.
func startDemo(ctx context.Context, getenv func(string) string, databaseURL string) (a *app, stopFakes func(), err error) {
	discord, err := fakediscord.New()
	if err != nil {
		return nil, nil, err
	}
	game, err := fakepnw.New()
	if err != nil {
		discord.Close()
		return nil, nil, err
	}
	// The game's subscriptions: subs.DeclareWar puts a war in the game and
	// on its stream at once.
	subs, err := fakepnw.NewSubscriptions(game)
	if err != nil {
		game.Close()
		discord.Close()
		return nil, nil, err
	}
	stop := func() { subs.Close(); game.Close(); discord.Close() }
	defer func() {
		if err != nil { // not stopFakes: a failed return sets it to nil
			stop()
		}
	}()
	world := demo.Seed(game, subs, discord)

	or := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	// The web side signs in through the fake Discord, so PUBLIC_URL must be
	// the page's own address: a port chosen by the system is chosen now.
	l, err := listen(or(config.HTTPAddr, demoDefaultAddr)) // the page acts as anyone: keep it on this machine
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			l.Close() // a second Close, after the app's, is harmless
		}
	}()
	addr := l.Addr()
	env := map[string]string{
		config.DatabaseURL:         databaseURL,
		config.EncryptionKey:       secrets.GenerateKey(),
		config.DiscordToken:        fakediscord.Token,
		config.DiscordAPIURL:       discord.URL,
		config.DiscordGuildID:      fakediscord.GuildID,
		config.PNWAPIURL:           game.URL,
		config.PNWAPIKey:           world.BotKey,
		config.PNWBotKey:           world.MutationKey,
		config.PNWSubscriptionsURL: subs.URL,
		config.PNWSocketURL:        subs.SocketURL,
		config.HTTPAddr:            addr.String(),
		config.MetricsAddr:         or(config.MetricsAddr, "127.0.0.1:0"), // a free port: a bot running here may hold 9090
		config.LogLevel:            getenv(config.LogLevel),
		config.LogFormat:           or(config.LogFormat, "text"),
		// The dashboard: sign-in through the fake Discord, tess a super admin.
		config.DiscordClientSecret:  fakediscord.ClientSecret,
		config.PublicURL:            localURL(addr),
		config.SuperAdminDiscordIDs: world.Users[0].ID,
	}
	cfg, err := loadConfig(func(name string) string { return env[name] }, runNeeds...)
	if err != nil {
		return nil, nil, err
	}
	logger := setupLogger(cfg, nil)
	logger.Info("starting pnwbot demo", "version", buildVersion(), "config", cfg)
	// The page plays Discord's client and watches the dashboard, in front
	// of the bot's own server.
	front := func(st *store.Store, server http.Handler) http.Handler {
		page := demo.New(demo.Options{Discord: discord, World: world, Logger: logger,
			AllianceSlug: func(ctx context.Context) (string, error) {
				guild := fakediscord.GuildID
				al, err := st.AllianceGetByGuild(ctx, &guild)
				if errors.Is(err, store.ErrNotFound) {
					return "", nil
				}
				return al.RouteSlug, err
			}})
		mux := http.NewServeMux()
		mux.Handle("/demo", page)
		mux.Handle("/demo/", page)
		mux.Handle("GET /{$}", http.RedirectHandler("/demo", http.StatusFound))
		mux.Handle("/", page.Watch(server))
		return mux
	}
	if err = quicken(ctx, databaseURL); err != nil {
		return nil, nil, err
	}
	if a, err = start(ctx, cfg, logger, redisPrefix, host{listener: l, front: front}); err != nil {
		return nil, nil, err
	}
	if err = seeNames(ctx, a.st, world); err != nil {
		a.close()
		return nil, nil, err
	}
	if err = linkMembers(ctx, a, world); err != nil {
		a.close()
		return nil, nil, err
	}
	return a, stop, nil
}

// linkMembers links the nations the world's members linked before the demo
// began, as /link does, so that the bot knows them from the start: bob can
// ask the bank and hear from the audit.
func linkMembers(ctx context.Context, a *app, world demo.World) error {
	for _, k := range world.Keys {
		for _, u := range world.Users {
			if k.LinkedBy != u.Name {
				continue
			}
			info, err := a.gameKeys.Owner(ctx, k.Key, "")
			if err != nil {
				return fmt.Errorf("demo link of %s: %w", u.Name, err)
			}
			user, err := a.st.UserCreate(ctx, store.UserCreateParams{DiscordID: u.ID, DiscordUsername: u.Name, KeySalt: secrets.NewSalt()})
			if err != nil {
				return fmt.Errorf("demo user %s: %w", u.Name, err)
			}
			if err := a.gameKeys.LinkMember(ctx, user, k.Key, info); err != nil {
				return fmt.Errorf("demo link of %s: %w", u.Name, err)
			}
		}
	}
	return nil
}

// demoSettings are the app_config values the demo runs with. Its world
// moves faster than the game: the war poll and the bank records' ingest,
// which repair what the game's stream missed, and the audit pass, which
// posts the daily report, run as often as they may, and members' data is
// read afresh each time instead of kept 10 min, so that the world's events
// show within seconds, and bob's inactivity at once.
var demoSettings = map[settings.Key]int{
	settings.WarPollInterval:     settings.WarPollInterval.Min,
	settings.AuditInterval:       settings.AuditInterval.Min,
	settings.BankIngestInterval:  settings.BankIngestInterval.Min,
	settings.CacheTTL["members"]: 0,
}

// quicken migrates the demo's database and stores demoSettings before the
// bot starts, so its first passes already keep the demo's pace.
func quicken(ctx context.Context, databaseURL string) error {
	st, err := store.Open(ctx, databaseURL, 2) // the migrations' lock holds one
	if err != nil {
		return todo(err, "check DATABASE_URL and that PostgreSQL is running")
	}
	defer st.Close()
	if err := store.Migrate(ctx, st.Pool, "up", io.Discard); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for k, v := range demoSettings {
		if _, err := st.AppConfigSet(ctx, store.AppConfigSetParams{Key: k.Name, Value: strconv.Itoa(v), Category: k.Category,
			DataType: k.Type, Description: k.Description}); err != nil {
			return fmt.Errorf("demo settings: %w", err)
		}
	}
	return nil
}

// seeNames records the world's names as seen, as a bot running for a while
// would have them, so that autocomplete offers them from the first keystroke.
func seeNames(ctx context.Context, st *store.Store, world demo.World) error {
	for _, al := range world.Alliances {
		if err := st.SeenAllianceUpsert(ctx, store.SeenAllianceUpsertParams{AllianceID: int64(al.ID), Name: al.Name, Acronym: al.Acronym}); err != nil {
			return fmt.Errorf("demo names: %w", err)
		}
	}
	for _, n := range world.Nations {
		if err := st.SeenNationUpsert(ctx, store.SeenNationUpsertParams{
			NationID: int64(n.ID), NationName: n.NationName, LeaderName: n.LeaderName, AllianceID: int64(n.AllianceID),
		}); err != nil {
			return fmt.Errorf("demo names: %w", err)
		}
	}
	return nil
}

// recreateDatabase drops and creates the database name on the PostgreSQL
// server serverURL points at, and returns the URL of that database.
func recreateDatabase(ctx context.Context, serverURL, name string) (string, error) {
	cfg, err := pgx.ParseConfig(serverURL)
	if err != nil {
		return "", errors.New("DATABASE_URL: not a PostgreSQL URL (postgres://user:password@host:5432/db)")
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", todo(fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, err),
			"start it with `bash scripts/test.sh`, or set DATABASE_URL to a server where you may create a database")
	}
	defer conn.Close(context.Background())
	ident := pgx.Identifier{name}.Sanitize()
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + ident + " WITH (FORCE)", "CREATE DATABASE " + ident} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", todo(fmt.Errorf("%s: %w", stmt, err), "set DATABASE_URL to a server where you may create a database")
		}
	}
	if !strings.Contains(serverURL, "://") { // keyword=value form: the last dbname wins
		return serverURL + " dbname=" + name, nil
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", errors.New("DATABASE_URL: not a PostgreSQL URL (postgres://user:password@host:5432/db)")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// localURL is the address to browse to for a listener on addr.
func localURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
