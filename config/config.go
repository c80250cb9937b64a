// Package config reads pnwbot's settings from the environment, once, and
// reports every problem in one error.
package config

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"pnwbot/secrets"
)

// Secret holds a value that must never be printed or logged.
type Secret string

// String hides the value from fmt.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// LogValue hides the value from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalText hides the value from encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Key is a decoded master key; like Secret, it never prints.
type Key []byte

func (k Key) String() string               { return Secret(k).String() }
func (k Key) GoString() string             { return k.String() }
func (k Key) LogValue() slog.Value         { return slog.StringValue(k.String()) }
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Config is every setting pnwbot reads.
type Config struct {
	DatabaseURL          Secret // may hold a password
	DatabasePoolSize     int32
	RedisURL             Secret // optional: without it cache and rate limits live in PostgreSQL
	EncryptionKey        Key    // ENCRYPTION_KEY, decoded
	EncryptionKeyOld     Key    // ENCRYPTION_KEY_OLD, decoded; only for rotate-key
	DiscordToken         Secret // bare token, without "Bot "
	DiscordAPIURL        string
	DiscordGuildID       string
	DiscordPublicKey     ed25519.PublicKey // optional: enables POST /interactions
	DiscordClientSecret  Secret            // with PublicURL: the web side (OAuth login, Linked Roles)
	PublicURL            string            // base of the web side's redirect URIs, without a trailing slash
	DiscordGateway       bool              // false: HTTP interactions only, no gateway session
	DiscordShardID       int
	DiscordShardCount    int // 0: "auto", asked of Discord (GET /gateway/bot)
	PNWAPIURL            string
	PNWAPIKey            Secret
	PNWBotKey            Secret
	HTTPAddr             string
	MetricsAddr          string
	SuperAdminDiscordIDs []string
	LogLevel             slog.Level
	LogFormat            string // "json" or "text"
}

// Names of the settings, as set in the environment.
const (
	DatabaseURL          = "DATABASE_URL"
	DatabasePoolSize     = "DATABASE_POOL_SIZE"
	RedisURL             = "REDIS_URL"
	EncryptionKey        = "ENCRYPTION_KEY"
	EncryptionKeyOld     = "ENCRYPTION_KEY_OLD"
	DiscordToken         = "DISCORD_TOKEN"
	DiscordAPIURL        = "DISCORD_API_URL"
	DiscordGuildID       = "DISCORD_GUILD_ID"
	DiscordPublicKey     = "DISCORD_PUBLIC_KEY"
	DiscordClientSecret  = "DISCORD_CLIENT_SECRET"
	PublicURL            = "PUBLIC_URL"
	DiscordGateway       = "DISCORD_GATEWAY"
	DiscordShardID       = "DISCORD_SHARD_ID"
	DiscordShardCount    = "DISCORD_SHARD_COUNT"
	PNWAPIURL            = "PNW_API_URL"
	PNWAPIKey            = "PNW_API_KEY"
	PNWBotKey            = "PNW_BOT_KEY"
	HTTPAddr             = "HTTP_ADDR"
	MetricsAddr          = "METRICS_ADDR"
	SuperAdminDiscordIDs = "SUPER_ADMIN_DISCORD_IDS"
	LogLevel             = "LOG_LEVEL"
	LogFormat            = "LOG_FORMAT"
)

// Setting describes one environment variable for --help and error messages.
type Setting struct {
	Name    string
	Secret  bool // also read from NAME_FILE
	Default string
	Help    string
}

// Settings lists every variable, in the order --help shows them.
var Settings = []Setting{
	{DatabaseURL, true, "", "PostgreSQL URL, e.g. postgres://pnwbot:password@localhost:5432/pnwbot"},
	{DatabasePoolSize, false, "10", "PostgreSQL connections each replica keeps for requests and background work (river's job queue opens up to 4 more); a burst larger than the pool waits its turn"},
	{RedisURL, true, "", "Redis URL, e.g. redis://localhost:6379/0 (optional: without it cache and rate limits live in PostgreSQL)"},
	{EncryptionKey, true, "", "master key for stored API keys: base64 of 32 bytes; make one with `pnwbot genkey`"},
	{EncryptionKeyOld, true, "", "previous master key, only while running `pnwbot rotate-key`"},
	{DiscordToken, true, "", "bot token from the Discord developer portal (Bot tab)"},
	{DiscordAPIURL, false, "https://discord.com", "Discord API base URL (a REST proxy or a local fake)"},
	{DiscordGuildID, false, "", "register commands in this guild only (instant; global registration can take an hour)"},
	{DiscordPublicKey, false, "", "application public key (hex); enables POST /interactions"},
	{DiscordClientSecret, true, "", "OAuth2 client secret (OAuth2 tab); with PUBLIC_URL turns on the web side: login, dashboard, Linked Roles"},
	{PublicURL, false, "", "public base URL of HTTP_ADDR, e.g. https://pnwbot.example.org; redirect URIs start with it, cookies are Secure when it is https"},
	{DiscordGateway, false, "on", "on, or off to serve HTTP interactions only (needs DISCORD_PUBLIC_KEY): replicas behind a load balancer"},
	{DiscordShardID, false, "0", "this replica's gateway shard, 0 to DISCORD_SHARD_COUNT-1"},
	{DiscordShardCount, false, "1", "how many gateway shards the replicas split, or auto (Discord's recommendation, GET /gateway/bot)"},
	{PNWAPIURL, false, "https://api.politicsandwar.com/graphql", "Politics and War GraphQL endpoint"},
	{PNWAPIKey, true, "", "the bot's own Politics and War API key, for public lookups"},
	{PNWBotKey, true, "", "Politics and War bot key, for bank withdrawals (optional)"},
	{HTTPAddr, false, ":8080", "address of the HTTP server: /healthz, /readyz and POST /interactions"},
	{MetricsAddr, false, "127.0.0.1:9090", "address of the Prometheus /metrics endpoint (loopback by default: exposing HTTP_ADDR does not expose it)"},
	{SuperAdminDiscordIDs, false, "", "comma-separated Discord user ids made super admins at start"},
	{LogLevel, false, "info", "debug, info, warn or error"},
	{LogFormat, false, "json", "json or text"},
}

var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

// Load reads the environment through getenv and validates it. required names
// the settings the command at hand cannot run without. Every problem found is
// listed in the one error returned.
func Load(getenv func(string) string, required ...string) (*Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	values := make(map[string]string, len(Settings))
	// reported holds the settings already named in a problem, so that one
	// mistake gives one message, not a second one saying the value is missing.
	reported := map[string]bool{}
	for _, s := range Settings {
		v := getenv(s.Name)
		if file := getenv(s.Name + "_FILE"); s.Secret && file != "" {
			switch b, err := os.ReadFile(file); {
			case v != "":
				bad("%s and %s_FILE are both set: unset one of them", s.Name, s.Name)
				reported[s.Name] = true
			case err != nil:
				bad("%s_FILE: cannot read %s: %v", s.Name, file, errors.Unwrap(err))
				reported[s.Name] = true
			default:
				v = strings.TrimRight(string(b), "\r\n")
			}
		}
		if v == "" {
			v = s.Default
		}
		values[s.Name] = v
	}
	for _, name := range required {
		if values[name] == "" && !reported[name] {
			bad("%s is not set: %s (or set %s_FILE to a file holding it)", name, help(name), name)
		}
	}

	cfg := &Config{
		DatabaseURL:         Secret(values[DatabaseURL]),
		RedisURL:            Secret(values[RedisURL]),
		DiscordToken:        Secret(strings.TrimPrefix(values[DiscordToken], "Bot ")),
		DiscordAPIURL:       strings.TrimRight(values[DiscordAPIURL], "/"),
		DiscordGuildID:      values[DiscordGuildID],
		PNWAPIURL:           values[PNWAPIURL],
		DiscordClientSecret: Secret(values[DiscordClientSecret]),
		PublicURL:           strings.TrimRight(values[PublicURL], "/"),
		PNWAPIKey:           Secret(values[PNWAPIKey]),
		PNWBotKey:           Secret(values[PNWBotKey]),
		HTTPAddr:            values[HTTPAddr],
		MetricsAddr:         values[MetricsAddr],
		LogFormat:           values[LogFormat],
	}
	if v := values[DatabaseURL]; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("%s must be a postgres:// URL", DatabaseURL)
		}
	}
	if n, err := strconv.ParseInt(values[DatabasePoolSize], 10, 32); err != nil || n < 2 {
		bad("%s must be a number of connections, 2 or more, got %q", DatabasePoolSize, values[DatabasePoolSize])
	} else {
		cfg.DatabasePoolSize = int32(n)
	}
	if v := values[RedisURL]; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("%s must be a redis:// or rediss:// URL", RedisURL)
		}
	}
	for _, name := range []string{EncryptionKey, EncryptionKeyOld} {
		if v := values[name]; v != "" {
			key, err := secrets.ParseKey(v)
			if err != nil {
				bad("%s: %v", name, err)
			}
			if name == EncryptionKey {
				cfg.EncryptionKey = key
			} else {
				cfg.EncryptionKeyOld = key
			}
		}
	}
	for _, name := range []string{DiscordAPIURL, PNWAPIURL} {
		if u, err := url.Parse(values[name]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s must be an http(s) URL, got %q", name, values[name])
		}
	}
	if v := values[PublicURL]; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("%s must be an http(s) URL such as https://pnwbot.example.org, got %q", PublicURL, v)
		}
	}
	if (values[PublicURL] == "") != (values[DiscordClientSecret] == "") && !reported[DiscordClientSecret] {
		bad("%s and %s go together (the web side needs both): set both, or neither to keep it off", DiscordClientSecret, PublicURL)
	}
	if v := values[DiscordGuildID]; v != "" && !snowflake.MatchString(v) {
		bad("%s must be a Discord id (digits only), got %q", DiscordGuildID, v)
	}
	if v := values[DiscordPublicKey]; v != "" {
		key, err := hex.DecodeString(v)
		if err != nil || len(key) != ed25519.PublicKeySize {
			bad("%s must be the 64 hex characters shown as Public Key in the developer portal", DiscordPublicKey)
		}
		cfg.DiscordPublicKey = key
	}
	switch values[DiscordGateway] {
	case "on":
		cfg.DiscordGateway = true
	case "off":
		if values[DiscordPublicKey] == "" {
			bad("%s=off needs %s: with no gateway, interactions arrive only over HTTP", DiscordGateway, DiscordPublicKey)
		}
	default:
		bad("%s must be on or off, got %q", DiscordGateway, values[DiscordGateway])
	}
	if v := values[DiscordShardCount]; v != "auto" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad("%s must be a number of shards (1 or more) or auto, got %q", DiscordShardCount, v)
		}
		cfg.DiscordShardCount = n
	}
	if n, err := strconv.Atoi(values[DiscordShardID]); err != nil || n < 0 {
		bad("%s must be a shard number, 0 or more, got %q", DiscordShardID, values[DiscordShardID])
	} else if cfg.DiscordShardID = n; cfg.DiscordShardCount > 0 && n >= cfg.DiscordShardCount {
		bad("%s is %d, but shards are numbered 0 to %s-1 (%d)", DiscordShardID, n, DiscordShardCount, cfg.DiscordShardCount-1)
	}
	switch {
	case values[DiscordToken] != "" && cfg.DiscordToken == "":
		bad("%s holds only \"Bot \": put the token itself after it, or just the token (Bot tab of the developer portal)", DiscordToken)
	case strings.ContainsAny(string(cfg.DiscordToken), " \t\n"):
		bad("%s must be the bare token from the developer portal", DiscordToken)
	}
	for _, a := range []struct{ name, example string }{{HTTPAddr, ":8080 or 127.0.0.1:8080"}, {MetricsAddr, "127.0.0.1:9090 or :9090"}} {
		if !validAddr(values[a.name]) {
			bad("%s must be host:port or :port, e.g. %s, got %q", a.name, a.example, values[a.name])
		}
	}
	for _, id := range strings.Split(values[SuperAdminDiscordIDs], ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !snowflake.MatchString(id) {
			bad("%s: %q is not a Discord user id", SuperAdminDiscordIDs, id)
			continue
		}
		cfg.SuperAdminDiscordIDs = append(cfg.SuperAdminDiscordIDs, id)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(values[LogLevel])); err != nil {
		bad("%s must be debug, info, warn or error, got %q", LogLevel, values[LogLevel])
	}
	if cfg.LogFormat != "json" && cfg.LogFormat != "text" {
		bad("%s must be json or text, got %q", LogFormat, cfg.LogFormat)
	}

	switch len(problems) {
	case 0:
		return cfg, nil
	case 1:
		return nil, fmt.Errorf("configuration: %s", problems[0])
	default:
		return nil, fmt.Errorf("configuration:\n  - %s", strings.Join(problems, "\n  - "))
	}
}

// WebEnabled reports whether the web side (OAuth login, dashboard, Linked
// Roles) is configured.
func (c *Config) WebEnabled() bool { return c.PublicURL != "" && c.DiscordClientSecret != "" }

// validAddr reports whether addr is host:port or :port, a numeric port.
func validAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

func help(name string) string {
	for _, s := range Settings {
		if s.Name == name {
			return s.Help
		}
	}
	return ""
}

// LogValue lists the settings for a start-up log line, secrets redacted and
// the database password hidden.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database", redactURL(string(c.DatabaseURL))),
		slog.Int("database_pool_size", int(c.DatabasePoolSize)),
		slog.String("redis", redactURL(string(c.RedisURL))),
		slog.String("discord_api_url", c.DiscordAPIURL),
		slog.String("discord_guild_id", c.DiscordGuildID),
		slog.Bool("http_interactions", c.DiscordPublicKey != nil),
		slog.String("public_url", c.PublicURL),
		slog.Bool("discord_gateway", c.DiscordGateway),
		slog.Int("discord_shard_id", c.DiscordShardID),
		slog.Int("discord_shard_count", c.DiscordShardCount),
		slog.String("pnw_api_url", c.PNWAPIURL),
		slog.Bool("pnw_bot_key", c.PNWBotKey != ""),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Int("super_admins", len(c.SuperAdminDiscordIDs)),
		slog.String("log_level", c.LogLevel.String()),
	)
}

// String prints the settings as LogValue does.
func (c *Config) String() string { return c.LogValue().String() }

// redactURL keeps what says where a server is (scheme, user, host,
// database) and drops the password, wherever it was written: before the host
// or as a query parameter.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable]"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.RawQuery = ""
	return u.String()
}
