package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/config"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store/storetest"
)

// asPnwbot, when set in the environment, makes the test binary run main with
// these arguments: tests see what pnwbot prints and how it exits.
const asPnwbot = "PNWBOT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if key, ok := os.LookupEnv(asFloor); ok {
		fmt.Fprintln(os.Stderr, serveFloor(key))
		os.Exit(1)
	}
	if args, ok := os.LookupEnv(asPnwbot); ok {
		os.Args = append([]string{"pnwbot"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runPnwbot runs `pnwbot args...` as a process with only env as its
// environment, and returns its standard error and exit code.
func runPnwbot(t *testing.T, env map[string]string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = []string{asPnwbot + "=" + strings.Join(args, " ")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run pnwbot: %v", err)
	}
	return stderr.String(), cmd.ProcessState.ExitCode()
}

// refusedAddr is a local address where nothing listens, ever: a port freed
// by a test can be taken meanwhile by a server of a test running in
// parallel (an HTTP server once answered a "down" Redis there).
const refusedAddr = "127.0.0.1:1"

// TestFailedStarts runs `pnwbot run` against fakes of Discord and the game,
// breaking one thing each time: every failed start prints one line with the
// cause and what to do, and exits 1.
func TestFailedStarts(t *testing.T) {
	t.Parallel()
	discord, game := newFakes(t)
	const gameKey = "botkey00000000000000"
	game.AddKey(gameKey, 1)
	game.AddNation(fakepnw.Nation{ID: 1, NationName: "Bot Nation", LeaderName: "Bot"})
	dbURL := storetest.NewDB(t).Pool.Config().ConnString()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { taken.Close() })

	for name, c := range map[string]struct {
		change map[string]string
		want   string
	}{
		"WrongDiscordToken": {
			map[string]string{config.DiscordToken: "wrong-token"},
			"pnwbot: DISCORD_TOKEN: Discord refused the token; copy it again from the Bot tab",
		},
		"OnlyBotPrefix": {
			map[string]string{config.DiscordToken: "Bot "},
			`pnwbot: configuration: DISCORD_TOKEN holds only "Bot ": put the token itself after it`,
		},
		"PortWithoutColon": {
			map[string]string{config.HTTPAddr: "8080"},
			`pnwbot: configuration: HTTP_ADDR must be host:port or :port, e.g. :8080 or 127.0.0.1:8080, got "8080"`,
		},
		"PortTaken": {
			map[string]string{config.HTTPAddr: taken.Addr().String()},
			"address already in use; set HTTP_ADDR to a free port, or stop what listens there",
		},
		"PostgreSQLDown": {
			map[string]string{config.DatabaseURL: "postgres://postgres@" + refusedAddr + "/pnwbot"},
			"connection refused; check DATABASE_URL and that PostgreSQL is running",
		},
		"RedisDown": {
			map[string]string{config.RedisURL: "redis://" + refusedAddr + "/0"},
			"connection refused; check REDIS_URL and that Redis is running, or unset REDIS_URL",
		},
		"GameRefusesKey": {
			map[string]string{config.PNWAPIKey: "unknownkey0000000000"},
			"pnwbot: PNW_API_KEY: the game refuses this key",
		},
		"BothVariableAndFile": {
			map[string]string{config.EncryptionKey + "_FILE": "/run/secrets/encryption_key"},
			"pnwbot: configuration: ENCRYPTION_KEY and ENCRYPTION_KEY_FILE are both set: unset one of them",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				config.DatabaseURL:    dbURL,
				config.EncryptionKey:  secrets.GenerateKey(),
				config.DiscordToken:   fakediscord.Token,
				config.DiscordAPIURL:  discord.URL,
				config.PNWAPIURL:      game.URL,
				config.PNWAPIKey:      gameKey,
				config.HTTPAddr:       "127.0.0.1:0",
				config.MetricsAddr:    "127.0.0.1:0",
				config.LogLevel:       "error",
				config.DiscordGuildID: fakediscord.GuildID,
			}
			for k, v := range c.change {
				env[k] = v
			}
			stderr, code := runPnwbot(t, env, "run")
			require.Equal(t, 1, code, stderr)
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line:\n%s", stderr)
			require.Contains(t, stderr, c.want)
			require.NotContains(t, stderr, "panic")
		})
	}
}
