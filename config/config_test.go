package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/config"
	"pnwbot/secrets"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func valid() map[string]string {
	return map[string]string{
		config.DatabaseURL:   "postgres://pnwbot:hunter2@db:5432/pnwbot",
		config.EncryptionKey: secrets.GenerateKey(),
		config.DiscordToken:  "Bot abc.def.ghi",
		config.PNWAPIKey:     "pnwkey1234567890",
	}
}

var runNeeds = []string{config.DatabaseURL, config.EncryptionKey, config.DiscordToken, config.PNWAPIKey}

// load reads and validates as the commands do.
func load(getenv func(string) string, required ...string) (*config.Config, error) {
	cfg := config.Load(getenv)
	return cfg, cfg.Validate(required...)
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("DefaultsAndBotPrefix", func(t *testing.T) {
		cfg, err := load(env(valid()), runNeeds...)
		require.NoError(t, err)
		require.Equal(t, config.Secret("abc.def.ghi"), cfg.DiscordToken)
		require.Equal(t, "https://discord.com", cfg.DiscordAPIURL)
		require.Equal(t, "https://api.politicsandwar.com/graphql", cfg.PNWAPIURL)
		require.Equal(t, ":8080", cfg.HTTPAddr)
		require.Equal(t, "127.0.0.1:9090", cfg.MetricsAddr)
		require.Equal(t, slog.LevelInfo, cfg.LogLevel)
		require.Len(t, cfg.EncryptionKey, 32)
		require.Nil(t, cfg.DiscordPublicKey)
		require.True(t, cfg.DiscordGateway)
		require.Equal(t, 0, cfg.DiscordShardID)
		require.Equal(t, 1, cfg.DiscordShardCount)
	})

	t.Run("Replicas", func(t *testing.T) {
		vars := valid()
		vars[config.DiscordShardID], vars[config.DiscordShardCount] = "1", "auto"
		cfg, err := load(env(vars), runNeeds...)
		require.NoError(t, err)
		require.Equal(t, 1, cfg.DiscordShardID)
		require.Zero(t, cfg.DiscordShardCount, "auto")

		vars[config.DiscordGateway] = "off"
		_, err = load(env(vars), runNeeds...)
		require.EqualError(t, err, "configuration: DISCORD_GATEWAY=off needs DISCORD_PUBLIC_KEY: with no gateway, interactions arrive only over HTTP")
		vars[config.DiscordPublicKey] = strings.Repeat("ab", 32)
		cfg, err = load(env(vars), runNeeds...)
		require.NoError(t, err)
		require.False(t, cfg.DiscordGateway)

		for _, c := range []struct{ id, count, want string }{
			{"2", "2", "DISCORD_SHARD_ID is 2, but shards are numbered 0 to DISCORD_SHARD_COUNT-1 (1)"},
			{"-1", "2", `DISCORD_SHARD_ID must be a shard number, 0 or more, got "-1"`},
			{"0", "0", `DISCORD_SHARD_COUNT must be a number of shards (1 or more) or auto, got "0"`},
		} {
			vars := valid()
			vars[config.DiscordShardID], vars[config.DiscordShardCount] = c.id, c.count
			_, err := load(env(vars), runNeeds...)
			require.EqualError(t, err, "configuration: "+c.want)
		}
		vars = valid()
		vars[config.DiscordGateway] = "maybe"
		_, err = load(env(vars), runNeeds...)
		require.EqualError(t, err, `configuration: DISCORD_GATEWAY must be on or off, got "maybe"`)
	})

	t.Run("EveryProblemListedOnce", func(t *testing.T) {
		_, err := load(env(map[string]string{
			config.EncryptionKey:        "short",
			config.DiscordPublicKey:     "zz",
			config.SuperAdminDiscordIDs: "123, abc",
			config.LogLevel:             "loud",
			config.RedisURL:             "http://x",
		}), runNeeds...)
		require.Error(t, err)
		msg := err.Error()
		for _, want := range []string{
			"DATABASE_URL is not set", "DISCORD_TOKEN is not set", "PNW_API_KEY is not set",
			"ENCRYPTION_KEY: not valid base64", "DISCORD_PUBLIC_KEY must be", `"abc" is not a Discord user id`,
			"LOG_LEVEL must be", "REDIS_URL must be",
		} {
			require.Contains(t, msg, want)
		}
		require.Contains(t, msg, "pnwbot genkey", "a missing key should say how to make one")
	})

	t.Run("WebSide", func(t *testing.T) {
		cfg, err := load(env(valid()), runNeeds...)
		require.NoError(t, err)
		require.False(t, cfg.WebEnabled(), "off without both settings")

		vars := valid()
		vars[config.DiscordClientSecret] = "client-secret-value"
		_, err = load(env(vars), runNeeds...)
		require.ErrorContains(t, err, "DISCORD_CLIENT_SECRET and PUBLIC_URL go together")

		vars[config.PublicURL] = "pnwbot.example.org"
		_, err = load(env(vars), runNeeds...)
		require.ErrorContains(t, err, "PUBLIC_URL must be an http(s) URL")

		vars[config.PublicURL] = "https://pnwbot.example.org/"
		cfg, err = load(env(vars), runNeeds...)
		require.NoError(t, err)
		require.True(t, cfg.WebEnabled())
		require.Equal(t, "https://pnwbot.example.org", cfg.PublicURL)
		require.NotContains(t, fmt.Sprint(cfg), "client-secret-value")
	})

	t.Run("OnlyWhatTheCommandNeeds", func(t *testing.T) {
		_, err := load(env(map[string]string{config.DatabaseURL: "postgres://localhost/x"}), config.DatabaseURL)
		require.NoError(t, err)
	})

	t.Run("FileVariants", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "token")
		require.NoError(t, os.WriteFile(path, []byte("file.token\n"), 0o600))
		vars := valid()
		delete(vars, config.DiscordToken)
		vars[config.DiscordToken+"_FILE"] = path
		cfg, err := load(env(vars), runNeeds...)
		require.NoError(t, err)
		require.Equal(t, config.Secret("file.token"), cfg.DiscordToken)

		// Both set, the file unreadable: one message, not three.
		vars[config.DiscordToken] = "also"
		vars[config.DiscordToken+"_FILE"] = filepath.Join(dir, "missing")
		_, err = load(env(vars), runNeeds...)
		require.EqualError(t, err, "configuration: DISCORD_TOKEN and DISCORD_TOKEN_FILE are both set: unset one of them")

		vars = valid()
		vars[config.PNWAPIKey+"_FILE"] = filepath.Join(dir, "missing")
		delete(vars, config.PNWAPIKey)
		_, err = load(env(vars), runNeeds...)
		require.ErrorContains(t, err, "PNW_API_KEY_FILE: cannot read")
		require.NotContains(t, err.Error(), "PNW_API_KEY is not set")
	})

	t.Run("CaughtBeforeConnecting", func(t *testing.T) {
		for name, c := range map[string]struct{ name, value, want string }{
			"PortOnly":       {config.HTTPAddr, "8080", `configuration: HTTP_ADDR must be host:port or :port, e.g. :8080 or 127.0.0.1:8080, got "8080"`},
			"PortOutOfRange": {config.HTTPAddr, ":80800", `HTTP_ADDR must be host:port or :port`},
			"NamedPort":      {config.HTTPAddr, ":http", `HTTP_ADDR must be host:port or :port`},
			"MetricsPort":    {config.MetricsAddr, "9090", `METRICS_ADDR must be host:port or :port, e.g. 127.0.0.1:9090 or :9090, got "9090"`},
			"OnlyBotPrefix":  {config.DiscordToken, "Bot ", `configuration: DISCORD_TOKEN holds only "Bot ": put the token itself after it`},
			"SpaceInToken":   {config.DiscordToken, "abc def", `DISCORD_TOKEN must be the bare token`},
			"PoolOfOne":      {config.DatabasePoolSize, "1", `configuration: DATABASE_POOL_SIZE must be a number of connections, 2 or more, got "1"`},
		} {
			t.Run(name, func(t *testing.T) {
				vars := valid()
				vars[c.name] = c.value
				_, err := load(env(vars), runNeeds...)
				require.ErrorContains(t, err, c.want)
				require.NotContains(t, err.Error(), "\n", "one problem, one line")
			})
		}
		for _, addr := range []string{":8080", "127.0.0.1:0", "[::1]:9090", "localhost:8080"} {
			vars := valid()
			vars[config.HTTPAddr] = addr
			_, err := load(env(vars), runNeeds...)
			require.NoError(t, err, addr)
		}
	})

	t.Run("SecretsNeverPrinted", func(t *testing.T) {
		vars := valid()
		vars[config.PNWBotKey] = "botkey-secret-value"
		vars[config.RedisURL] = "redis://:redispass@cache:6379/0"
		vars[config.DatabaseURL] = "postgres://pnwbot:hunter2@db:5432/pnwbot?sslmode=require&password=querypass"
		cfg, err := load(env(vars), runNeeds...)
		require.NoError(t, err)

		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("start", "config", cfg)
		js, err := json.Marshal(cfg)
		require.NoError(t, err)
		outputs := []string{
			fmt.Sprint(cfg), fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%#v", *cfg), fmt.Sprintf("%x", cfg.EncryptionKey),
			logged.String(), string(js),
		}
		key := vars[config.EncryptionKey]
		for _, out := range outputs {
			for _, secret := range []string{"hunter2", "querypass", "redispass", "abc.def.ghi", "pnwkey1234567890", "botkey-secret-value", key} {
				require.NotContains(t, out, secret)
			}
			require.False(t, strings.Contains(out, string(cfg.EncryptionKey)), "raw key bytes printed")
		}
		require.Contains(t, logged.String(), "db:5432", "the log line should still say where the database is")
	})
}

// TestEveryVariableDocumented keeps .env.example and the README's table in
// step with Settings.
func TestEveryVariableDocumented(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../.env.example")
	require.NoError(t, err)
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	for _, s := range config.Settings {
		require.Regexp(t, `(?m)^(# )?`+s.Name+`=`, string(example), ".env.example")
		require.Contains(t, string(readme), "| `"+s.Name+"` |", "README.md")
	}
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	env := map[string]string{config.TrustedProxies: "10.0.0.0/8, 192.0.2.7/32"}
	cfg := config.Load(func(k string) string { return env[k] })
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}, cfg.TrustedProxies)
	env[config.TrustedProxies] = "10.0.0.1"
	require.ErrorContains(t, config.Load(func(k string) string { return env[k] }).Validate(), "TRUSTED_PROXIES must list CIDRs")
}
