package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"pnwbot/config"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/kv"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

const usage = `pnwbot: the Politics and War alliance manager for Discord.

Usage:
  pnwbot [command]

Commands:
  run                   apply pending migrations, then run the bot and its HTTP servers (default)
  demo                  try the bot without Discord: fakes of Discord and the game, a page at /demo
  migrate up            apply pending migrations
  migrate down          roll back the latest migration
  migrate reset [--yes] roll back every migration (deletes all data; asks first without --yes)
  migrate status        list migrations and whether each is applied
  rotate-key            re-encrypt stored API keys from ENCRYPTION_KEY_OLD to ENCRYPTION_KEY
  genkey                print a fresh ENCRYPTION_KEY
  healthcheck           exit 0 when the local HTTP server answers /healthz (for Docker)
  version               print the version
  help                  print this help

Configuration comes from the environment. Secrets may instead be read from a
file named by NAME_FILE (for example DISCORD_TOKEN_FILE=/run/secrets/token).
`

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nEnvironment:")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, s := range config.Settings {
		help := s.Help
		if s.Default != "" {
			help += " (default " + s.Default + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, help)
	}
	tw.Flush()
}

// runNeeds are the settings `pnwbot run` cannot start without.
var runNeeds = []string{config.DatabaseURL, config.EncryptionKey, config.DiscordToken, config.PNWAPIKey}

func cli(ctx context.Context, args []string, getenv func(string) string) error {
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		cfg, err := loadConfig(getenv, runNeeds...)
		if err != nil {
			return err
		}
		return run(ctx, cfg)
	case "demo":
		return runDemo(ctx, getenv)
	case "migrate":
		yes := len(args) == 2 && args[0] == "reset" && args[1] == "--yes"
		if len(args) != 1 && !yes {
			return errors.New("usage: pnwbot migrate up|down|status, or pnwbot migrate reset [--yes]")
		}
		command := args[0]
		cfg, err := loadConfig(getenv, config.DatabaseURL)
		if err != nil {
			return err
		}
		if command == "reset" && !yes {
			if err := confirmReset(cfg, os.Stdin, os.Stdout); err != nil {
				return err
			}
		}
		return migrate(ctx, cfg, command, os.Stdout)
	case "rotate-key":
		cfg, err := loadConfig(getenv, config.DatabaseURL, config.EncryptionKey, config.EncryptionKeyOld)
		if err != nil {
			return err
		}
		return rotateKey(ctx, cfg, os.Stdout)
	case "genkey":
		fmt.Println(secrets.GenerateKey())
		return nil
	case "healthcheck":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return healthcheck(ctx, cfg.HTTPAddr)
	case "version":
		fmt.Println(buildVersion())
		return nil
	case "help", "-h", "--help":
		printUsage(os.Stdout)
		return nil
	default:
		printUsage(os.Stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// loadConfig reads the environment through getenv and checks it, with
// required naming the settings the command at hand cannot run without.
func loadConfig(getenv func(string) string, required ...string) (*config.Config, error) {
	cfg := config.Load(getenv)
	if err := cfg.Validate(required...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// setupLogger logs to stderr, through buf when it is not nil.
func setupLogger(cfg *config.Config, buf *logBuffer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var out io.Writer = os.Stderr
	if buf != nil {
		out = buf
	}
	var h slog.Handler = slog.NewJSONHandler(out, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(out, opts)
	}
	if buf != nil {
		h = flushOnWarn{h, buf}
	}
	logger := slog.New(h)
	slog.SetDefault(logger)
	redis.SetLogger(redisLogger{logger})
	return logger
}

// redisLogger sends go-redis's own messages (it logs only trouble: failed
// dials, bad connections) through slog, instead of plain text amid the JSON.
type redisLogger struct{ logger *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, args ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, args...), "redis: ")
	r.logger.WarnContext(ctx, msg, "component", "go-redis")
}

// confirmReset asks, on out, to type "yes" on in before every table goes.
func confirmReset(cfg *config.Config, in io.Reader, out io.Writer) error {
	where := "the database"
	if u, err := url.Parse(string(cfg.DatabaseURL)); err == nil {
		where = fmt.Sprintf("database %s on %s", strings.TrimPrefix(u.Path, "/"), u.Host)
	}
	fmt.Fprintf(out, "This rolls back every migration of %s: every table and all its data are deleted.\nType yes to go on: ", where)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return errors.New("reset not confirmed, nothing changed (pnwbot migrate reset --yes does not ask)")
	}
	return nil
}

func migrate(ctx context.Context, cfg *config.Config, command string, out io.Writer) error {
	setupLogger(cfg, nil)
	st, err := store.Open(ctx, string(cfg.DatabaseURL), cfg.DatabasePoolSize)
	if err != nil {
		return err
	}
	defer st.Close()
	return store.Migrate(ctx, st.Pool, command, out)
}

func rotateKey(ctx context.Context, cfg *config.Config, out io.Writer) error {
	setupLogger(cfg, nil)
	kr, err := secrets.NewKeyring(cfg.EncryptionKey, cfg.EncryptionKeyOld)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, string(cfg.DatabaseURL), cfg.DatabasePoolSize)
	if err != nil {
		return err
	}
	defer st.Close()
	progress := func(s secrets.RotateStats) {
		fmt.Fprintf(out, "rotated %d, already current %d, unreadable %d, changed meanwhile %d\n", s.Rotated, s.Current, s.Failed, s.Changed)
	}
	stats, err := secrets.Rotate(ctx, kv.KeyTables(st), kr, 500, progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "done: %d keys re-encrypted, %d were already current.\n", stats.Rotated, stats.Current)
	// The proof that ENCRYPTION_KEY_OLD may go: every stored key opens with
	// the new key alone. A process still sealing with the old key, or a key
	// from another master key, shows up here.
	newOnly, err := secrets.NewKeyring(cfg.EncryptionKey, nil)
	if err != nil {
		return err
	}
	bad, err := secrets.Unreadable(ctx, kv.KeyTables(st), newOnly, 500)
	if err != nil {
		return fmt.Errorf("check stored keys: %w", err)
	}
	if len(bad) > 0 {
		fmt.Fprintf(out, "%d stored keys do not open with the new ENCRYPTION_KEY:\n", len(bad))
		for _, o := range bad {
			fmt.Fprintf(out, "  %s\n", o)
		}
		return fmt.Errorf("%d stored keys do not open with ENCRYPTION_KEY (listed above); keep ENCRYPTION_KEY_OLD. "+
			"If a process still runs with the old key, restart it with the new one and run rotate-key again; "+
			"keys that open with neither key must be linked again by their owners (/link)", len(bad))
	}
	fmt.Fprintln(out, "every stored key opens with ENCRYPTION_KEY: ENCRYPTION_KEY_OLD can now be removed.")
	return nil
}

func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %s", resp.Status)
	}
	return nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v = strings.TrimSpace(v + " " + s.Value)
		}
	}
	return v
}
