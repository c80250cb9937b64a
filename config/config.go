// Package config reads pnwbot's settings from the environment, once (Load),
// and checks them (Config.Validate), reporting every problem in one error.
package config

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
	PNWSubscriptionsURL  string
	PNWSocketURL         string
	PNWSubscriptions     bool // false: the war poll alone, no stream
	HTTPAddr             string
	MetricsAddr          string
	TrustedProxies       []netip.Prefix // peers whose X-Forwarded-For is believed
	SuperAdminDiscordIDs []string
	LogLevel             slog.Level
	LogFormat            string // "json" or "text"

	problems []problem       // what Load could not read, for Validate
	given    map[string]bool // the settings set, or with a default
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
	PNWSubscriptionsURL  = "PNW_SUBSCRIPTIONS_URL"
	PNWSocketURL         = "PNW_SOCKET_URL"
	PNWSubscriptions     = "PNW_SUBSCRIPTIONS"
	HTTPAddr             = "HTTP_ADDR"
	MetricsAddr          = "METRICS_ADDR"
	TrustedProxies       = "TRUSTED_PROXIES"
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
	{PNWSubscriptionsURL, false, "https://api.politicsandwar.com/subscriptions/v1", "the game's real-time subscriptions (subscribe, auth and rollback live under it)"},
	{PNWSocketURL, false, "wss://socket.politicsandwar.com/app/a22734a47847a64386c8?protocol=7", "the game's Pusher websocket"},
	{PNWSubscriptions, false, "on", "on, or off to find wars and bank records by polling only (jobs.war_poll_interval_seconds, jobs.bank_ingest_interval_seconds)"},
	{HTTPAddr, false, ":8080", "address of the HTTP server: /healthz, /readyz and POST /interactions"},
	{MetricsAddr, false, "127.0.0.1:9090", "address of the Prometheus /metrics endpoint (loopback by default: exposing HTTP_ADDR does not expose it)"},
	{TrustedProxies, false, "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (e.g. 10.0.0.0/8); unset, the peer is the client"},
	{SuperAdminDiscordIDs, false, "", "comma-separated Discord user ids made super admins at start"},
	{LogLevel, false, "info", "debug, info, warn or error"},
	{LogFormat, false, "json", "json or text"},
}

var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

// Load reads the environment through getenv into a Config: defaults
// filled in, secrets read from their NAME_FILE, each value parsed. It never
// fails: what it cannot read, Validate reports along with every other
// problem.
func Load(getenv func(string) string) *Config {
	cfg := &Config{given: map[string]bool{}}
	bad := func(name, format string, args ...any) {
		cfg.problems = append(cfg.problems, problem{name, fmt.Sprintf(format, args...)})
	}
	values := make(map[string]string, len(Settings))
	for _, s := range Settings {
		v := getenv(s.Name)
		if file := getenv(s.Name + "_FILE"); s.Secret && file != "" {
			switch b, err := os.ReadFile(file); {
			case v != "":
				bad(s.Name, "%s and %s_FILE are both set: unset one of them", s.Name, s.Name)
			case err != nil:
				bad(s.Name, "%s_FILE: cannot read %s: %v", s.Name, file, errors.Unwrap(err))
			default:
				v = strings.TrimRight(string(b), "\r\n")
			}
		}
		if v == "" {
			v = s.Default
		}
		values[s.Name] = v
		cfg.given[s.Name] = v != ""
	}

	cfg.DatabaseURL = Secret(values[DatabaseURL])
	cfg.RedisURL = Secret(values[RedisURL])
	cfg.DiscordToken = Secret(strings.TrimPrefix(values[DiscordToken], "Bot "))
	cfg.DiscordAPIURL = strings.TrimRight(values[DiscordAPIURL], "/")
	cfg.DiscordGuildID = values[DiscordGuildID]
	cfg.PNWAPIURL = values[PNWAPIURL]
	cfg.DiscordClientSecret = Secret(values[DiscordClientSecret])
	cfg.PublicURL = strings.TrimRight(values[PublicURL], "/")
	cfg.PNWAPIKey = Secret(values[PNWAPIKey])
	cfg.PNWBotKey = Secret(values[PNWBotKey])
	cfg.PNWSubscriptionsURL = strings.TrimRight(values[PNWSubscriptionsURL], "/")
	cfg.PNWSocketURL = values[PNWSocketURL]
	cfg.HTTPAddr = values[HTTPAddr]
	cfg.MetricsAddr = values[MetricsAddr]
	cfg.LogFormat = values[LogFormat]

	if n, err := strconv.ParseInt(values[DatabasePoolSize], 10, 32); err != nil {
		bad(DatabasePoolSize, "%s must be a number of connections, 2 or more, got %q", DatabasePoolSize, values[DatabasePoolSize])
	} else {
		cfg.DatabasePoolSize = int32(n)
	}
	for _, name := range []string{EncryptionKey, EncryptionKeyOld} {
		if v := values[name]; v != "" {
			key, err := secrets.ParseKey(v)
			if err != nil {
				bad(name, "%s: %v", name, err)
			}
			if name == EncryptionKey {
				cfg.EncryptionKey = key
			} else {
				cfg.EncryptionKeyOld = key
			}
		}
	}
	if v := values[DiscordPublicKey]; v != "" {
		key, err := hex.DecodeString(v)
		if err != nil || len(key) != ed25519.PublicKeySize {
			bad(DiscordPublicKey, "%s must be the 64 hex characters shown as Public Key in the developer portal", DiscordPublicKey)
		}
		cfg.DiscordPublicKey = key
	}
	switch values[DiscordGateway] {
	case "on":
		cfg.DiscordGateway = true
	case "off":
	default:
		bad(DiscordGateway, "%s must be on or off, got %q", DiscordGateway, values[DiscordGateway])
	}
	switch values[PNWSubscriptions] {
	case "on":
		cfg.PNWSubscriptions = true
	case "off":
	default:
		bad(PNWSubscriptions, "%s must be on or off, got %q", PNWSubscriptions, values[PNWSubscriptions])
	}
	if v := values[DiscordShardCount]; v != "auto" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad(DiscordShardCount, "%s must be a number of shards (1 or more) or auto, got %q", DiscordShardCount, v)
		}
		cfg.DiscordShardCount = n
	}
	if n, err := strconv.Atoi(values[DiscordShardID]); err != nil {
		bad(DiscordShardID, "%s must be a shard number, 0 or more, got %q", DiscordShardID, values[DiscordShardID])
	} else {
		cfg.DiscordShardID = n
	}
	for _, v := range strings.Split(values[TrustedProxies], ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if p, err := netip.ParsePrefix(v); err != nil {
			bad(TrustedProxies, "%s must list CIDRs such as 10.0.0.0/8 or 192.0.2.7/32, got %q", TrustedProxies, v)
		} else {
			cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
		}
	}
	for _, id := range strings.Split(values[SuperAdminDiscordIDs], ",") {
		if id = strings.TrimSpace(id); id != "" {
			cfg.SuperAdminDiscordIDs = append(cfg.SuperAdminDiscordIDs, id)
		}
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(values[LogLevel])); err != nil {
		bad(LogLevel, "%s must be debug, info, warn or error, got %q", LogLevel, values[LogLevel])
	}
	return cfg
}

// problem is one setting Load could not read.
type problem struct{ name, text string }

// Validate checks the settings Load read, required naming those the
// command at hand cannot run without, and lists every problem, Load's
// included, in the one error returned.
func (c *Config) Validate(required ...string) error {
	var problems []string
	// A setting Load could not read is not reported again as missing or
	// out of range.
	reported := map[string]bool{}
	for _, p := range c.problems {
		problems = append(problems, p.text)
		reported[p.name] = true
	}
	bad := func(name, format string, args ...any) {
		if !reported[name] {
			problems = append(problems, fmt.Sprintf(format, args...))
			reported[name] = true
		}
	}
	for _, name := range required {
		if !c.given[name] {
			bad(name, "%s is not set: %s (or set %s_FILE to a file holding it)", name, help(name), name)
		}
	}
	if v := string(c.DatabaseURL); v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad(DatabaseURL, "%s must be a postgres:// URL", DatabaseURL)
		}
	}
	if c.DatabasePoolSize < 2 {
		bad(DatabasePoolSize, "%s must be a number of connections, 2 or more, got %q", DatabasePoolSize, strconv.Itoa(int(c.DatabasePoolSize)))
	}
	if v := string(c.RedisURL); v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad(RedisURL, "%s must be a redis:// or rediss:// URL", RedisURL)
		}
	}
	if u, err := url.Parse(c.PNWSocketURL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		bad(PNWSocketURL, "%s must be a ws(s) URL, got %q", PNWSocketURL, c.PNWSocketURL)
	}
	for _, s := range []struct{ name, value string }{{DiscordAPIURL, c.DiscordAPIURL}, {PNWAPIURL, c.PNWAPIURL}, {PNWSubscriptionsURL, c.PNWSubscriptionsURL}} {
		if u, err := url.Parse(s.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(s.name, "%s must be an http(s) URL, got %q", s.name, s.value)
		}
	}
	if v := c.PublicURL; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad(PublicURL, "%s must be an http(s) URL such as https://pnwbot.example.org, got %q", PublicURL, v)
		}
	}
	if (c.PublicURL == "") != (c.DiscordClientSecret == "") {
		bad(DiscordClientSecret, "%s and %s go together (the web side needs both): set both, or neither to keep it off", DiscordClientSecret, PublicURL)
	}
	if v := c.DiscordGuildID; v != "" && !snowflake.MatchString(v) {
		bad(DiscordGuildID, "%s must be a Discord id (digits only), got %q", DiscordGuildID, v)
	}
	if !c.DiscordGateway && c.DiscordPublicKey == nil && !reported[DiscordGateway] {
		bad(DiscordGateway, "%s=off needs %s: with no gateway, interactions arrive only over HTTP", DiscordGateway, DiscordPublicKey)
	}
	if c.DiscordShardID < 0 {
		bad(DiscordShardID, "%s must be a shard number, 0 or more, got %q", DiscordShardID, strconv.Itoa(c.DiscordShardID))
	} else if c.DiscordShardCount > 0 && c.DiscordShardID >= c.DiscordShardCount {
		bad(DiscordShardID, "%s is %d, but shards are numbered 0 to %s-1 (%d)", DiscordShardID, c.DiscordShardID, DiscordShardCount, c.DiscordShardCount-1)
	}
	switch {
	case c.given[DiscordToken] && c.DiscordToken == "":
		bad(DiscordToken, "%s holds only \"Bot \": put the token itself after it, or just the token (Bot tab of the developer portal)", DiscordToken)
	case strings.ContainsAny(string(c.DiscordToken), " \t\n"):
		bad(DiscordToken, "%s must be the bare token from the developer portal", DiscordToken)
	}
	for _, a := range []struct{ name, value, example string }{{HTTPAddr, c.HTTPAddr, ":8080 or 127.0.0.1:8080"}, {MetricsAddr, c.MetricsAddr, "127.0.0.1:9090 or :9090"}} {
		if !validAddr(a.value) {
			bad(a.name, "%s must be host:port or :port, e.g. %s, got %q", a.name, a.example, a.value)
		}
	}
	for _, id := range c.SuperAdminDiscordIDs {
		if !snowflake.MatchString(id) {
			problems = append(problems, fmt.Sprintf("%s: %q is not a Discord user id", SuperAdminDiscordIDs, id))
		}
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad(LogFormat, "%s must be json or text, got %q", LogFormat, c.LogFormat)
	}

	switch len(problems) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("configuration: %s", problems[0])
	default:
		return fmt.Errorf("configuration:\n  - %s", strings.Join(problems, "\n  - "))
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
		slog.Bool("pnw_subscriptions", c.PNWSubscriptions),
		slog.String("pnw_subscriptions_url", c.PNWSubscriptionsURL),
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
