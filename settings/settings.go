// Package settings reads pnwbot's run-time settings from app_config: each
// a typed key with a documented default, kept in memory and read again from
// the table once RefreshEvery has passed, so that a change counts within a
// minute on every replica, without a restart.
package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"pnwbot/store"
)

// RefreshEvery is how long values read from app_config serve before a read
// loads them again.
const RefreshEvery = 30 * time.Second

// loadTimeout bounds a reload, which the reader that does it waits for.
const loadTimeout = 2 * time.Second

// Key is one setting: its app_config key, type (app_config.data_type),
// category, default and meaning. A number is whole and at least Min.
type Key struct {
	Name        string
	Type        string
	Category    string
	Default     string
	Description string
	Min         int
}

// The settings the bot reads. Durations are whole seconds.
var (
	UserCommandsPerMinute = number("ratelimit.user_commands_per_minute", "limits", 30, 1,
		"Commands one user may run per minute (autocomplete is not counted)")
	WebRequestsPerMinute = number("ratelimit.web_requests_per_minute", "limits", 120, 10,
		"Web page requests one address, and one session, may make per minute")
	UserLookupsPerDay = number("budget.user_lookups_per_day", "limits", DefaultUserLookupsPerDay, 1,
		"Lookups one user may make per 24 hours that the cache cannot answer (they spend PNW_API_KEY's 2,000 a day)")
	WithdrawalAllianceCap = number("bank.withdrawal_cap_per_alliance_per_day", "bank", 5_000_000_000, 0,
		"Most value in dollars all of an alliance's managers together may withdraw in 24 hours")
	WithdrawalCap = number("bank.withdrawal_cap_per_manager_per_day", "bank", 1_000_000_000, 0,
		"Most value in dollars (money, and resources at average trade prices) one manager may withdraw in 24 hours")
	RetentionInterval = number("jobs.retention_interval_seconds", "jobs", 3600, 60,
		"Seconds between retention passes (usage log, audit log, sessions, cache, rate limits) and stored-key checks")
	KeyVerificationInterval = number("jobs.key_verification_interval_seconds", "jobs", 86400, 600,
		"Seconds between re-verifications of stored game keys with the game")
	SettleInterval = number("jobs.withdrawal_settle_interval_seconds", "jobs", 300, 60,
		"Seconds between passes that settle withdrawals a stopped process left sending")
	RoleSyncInterval = number("jobs.role_sync_interval_seconds", "jobs", 3600, 300,
		"Seconds between passes that give and take alliances' Discord roles")
	WarPollInterval = number("jobs.war_poll_interval_seconds", "jobs", 120, 10,
		"Seconds between reads of the alerted alliances' active wars, which alert on any war the stream missed")
	AuditInterval = number("jobs.audit_interval_seconds", "jobs", 3600, 10,
		"Seconds between audit passes: daily reports due, reminders, and the inactive-bracket automation")
	LinkedRolesInterval = number("jobs.linked_roles_interval_seconds", "jobs", 21600, 600,
		"Seconds between refreshes of Linked Roles metadata (cities, score)")
	BankIngestInterval = number("jobs.bank_ingest_interval_seconds", "jobs", 300, 60,
		"Seconds between passes that collect alliances' bank and tax records into the ledger (the game keeps 14 days)")
)

// DefaultUserLookupsPerDay is each user's daily allowance of lookups that
// spend the bot's own key (those the cache cannot answer): a small share
// of the key's 2,000 requests a day.
const DefaultUserLookupsPerDay = 50

// CacheTTL holds, for each kind of game data pnw caches (pnw.Options.TTL
// names them), the setting of how long it stays fresh.
var CacheTTL = cacheTTLs(map[string]time.Duration{
	"nation":   5 * time.Minute,
	"alliance": 15 * time.Minute,
	"members":  10 * time.Minute,
	"wars":     2 * time.Minute,
	"bank":     2 * time.Minute, // the bank, its records and tax records
	"trades":   5 * time.Minute,
	"prices":   5 * time.Minute,
})

func cacheTTLs(defaults map[string]time.Duration) map[string]Key {
	out := map[string]Key{}
	for kind, ttl := range defaults {
		out[kind] = number("cache."+kind+"_ttl_seconds", "cache", int(ttl/time.Second), 0,
			"Seconds "+kind+" data from the game stays fresh in the cache")
	}
	return out
}

// All lists every setting, in the order /admin config list shows them.
var All = allKeys()

func allKeys() []Key {
	keys := []Key{UserCommandsPerMinute, WebRequestsPerMinute, UserLookupsPerDay, WithdrawalCap, WithdrawalAllianceCap, RetentionInterval, KeyVerificationInterval, SettleInterval, RoleSyncInterval, LinkedRolesInterval, WarPollInterval, AuditInterval, BankIngestInterval}
	for _, kind := range slices.Sorted(maps.Keys(CacheTTL)) {
		keys = append(keys, CacheTTL[kind])
	}
	return keys
}

func number(name, category string, def, minimum int, description string) Key {
	return Key{Name: name, Type: "number", Category: category, Default: strconv.Itoa(def), Min: minimum, Description: description}
}

// Find returns the setting named key.
func Find(key string) (Key, bool) {
	i := slices.IndexFunc(All, func(k Key) bool { return k.Name == key })
	if i < 0 {
		return Key{}, false
	}
	return All[i], true
}

// Check says why value of type dataType cannot be this setting's, or nil.
func (k Key) Check(value, dataType string) error {
	if dataType != k.Type {
		return fmt.Errorf("%s is a %s", k.Name, k.Type)
	}
	if k.Type == "number" {
		if _, err := k.parseInt(value); err != nil {
			return err
		}
	}
	return nil
}

func (k Key) parseInt(value string) (int, error) {
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || f != math.Trunc(f) || f < float64(k.Min) || f > 1<<53 {
		return 0, fmt.Errorf("%s is a whole number of at least %d", k.Name, k.Min)
	}
	return int(f), nil
}

// Source is where settings are read: app_config.
type Source interface {
	AppConfigList(ctx context.Context, category *string) ([]store.AppConfig, error)
}

// Settings serves settings from memory, read again from the source once
// RefreshEvery has passed. It is safe for concurrent use.
type Settings struct {
	src Source
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	values  map[string]store.AppConfig
	loaded  time.Time
	loading bool // one reader is reading app_config
	group   singleflight.Group
}

// Options are what Settings works with besides its source.
type Options struct {
	Logger *slog.Logger     // where a failed reload is logged; nil: nowhere
	Now    func() time.Time // the clock that says when a reload is due; nil: time.Now
}

// New returns settings read from src; a failed reload is logged and the
// values read before serve meanwhile (the defaults before any).
func New(src Source, o Options) *Settings {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Settings{src: src, log: o.Logger, now: o.Now}
}

// Refresh makes the next read load the settings again: after a change made
// by this process, so that it counts at once here.
func (s *Settings) Refresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loaded = time.Time{}
}

// ErrUnread is returned by Strict while app_config has never been read.
var ErrUnread = errors.New("settings: app_config could not be read yet")

// raw returns the stored row of key, loading the table when due; loaded
// says whether app_config was ever read. The reader that finds a reload due
// does it without holding the lock: every command reads settings, and none
// waits on another's query but when nothing was read yet.
func (s *Settings) raw(ctx context.Context, key string) (row store.AppConfig, stored, loaded bool) {
	s.mu.Lock()
	due := !s.loading && (s.loaded.IsZero() || s.now().Sub(s.loaded) >= RefreshEvery)
	if due {
		s.loaded, s.loading = s.now(), true // a failure waits as long before it is tried again
	}
	join := due || (s.loading && s.values == nil)
	s.mu.Unlock()
	if join {
		s.group.Do("load", func() (any, error) { //nolint:errcheck // load logs its failure
			values := s.load(ctx)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.loading = false
			if values != nil {
				s.values = values
			}
			return nil, nil
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.values[key]
	return r, ok, s.values != nil
}

// load reads app_config; nil when it could not (logged).
func (s *Settings) load(ctx context.Context) map[string]store.AppConfig {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
	defer cancel()
	rows, err := s.src.AppConfigList(ctx, nil)
	if err != nil {
		s.log.WarnContext(ctx, "settings: reading app_config failed; the previous values serve", "error", err)
		return nil
	}
	values := make(map[string]store.AppConfig, len(rows))
	for _, r := range rows {
		values[r.Key] = r
	}
	return values
}

// Int returns a number setting: the stored value, or its default when
// none is stored or the stored one does not fit (logged).
func (s *Settings) Int(ctx context.Context, k Key) int {
	v, _ := s.number(ctx, k)
	return v
}

// Strict is Int for a limit whose default must not stand in for an
// administrator's value that could not be read: until app_config has been
// read once, it fails with ErrUnread.
func (s *Settings) Strict(ctx context.Context, k Key) (int, error) {
	v, loaded := s.number(ctx, k)
	if !loaded {
		return 0, ErrUnread
	}
	return v, nil
}

func (s *Settings) number(ctx context.Context, k Key) (v int, loaded bool) {
	def, _ := k.parseInt(k.Default)
	r, ok, loaded := s.raw(ctx, k.Name)
	if !ok {
		return def, loaded
	}
	v, err := k.parseInt(r.Value)
	if err == nil && r.DataType == k.Type {
		return v, true
	}
	s.log.WarnContext(ctx, "settings: stored value does not fit; the default serves", "key", k.Name, "error", errors.Join(err, k.Check(r.Value, r.DataType)))
	return def, true
}

// Seconds returns a number setting counted in seconds.
func (s *Settings) Seconds(ctx context.Context, k Key) time.Duration {
	return time.Duration(s.Int(ctx, k)) * time.Second
}
