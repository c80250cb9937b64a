// Package bank owns an alliance's bank as pnwbot runs it: what it holds
// (read with the alliance's own keys), withdrawals (a state machine kept
// in the withdrawals table, so each is sent at most once) and the daily
// cap per manager. It knows nothing of Discord or HTTP: commands, pages
// and jobs call it alike and render its typed errors in their own words.
package bank

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"pnwbot/audit"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/settings"
	"pnwbot/store"
)

// Options are what Bank works with.
type Options struct {
	Store    *store.Store
	Game     *pnw.Client
	Keys     *keys.Keys
	Settings *settings.Settings
	Logger   *slog.Logger
	Now      func() time.Time // nil: time.Now
	// Cap is the most value a manager may withdraw in 24 hours; zero means
	// the setting bank.withdrawal_cap_per_manager_per_day.
	Cap float64
	// AllianceCap is the most value an alliance's managers together may
	// withdraw in 24 hours; zero means the setting
	// bank.withdrawal_cap_per_alliance_per_day.
	AllianceCap float64
}

// Bank runs alliances' banks.
type Bank struct {
	store    *store.Store
	game     *pnw.Client
	keys     *keys.Keys
	settings *settings.Settings
	audit    audit.Log
	logger   *slog.Logger
	now      func() time.Time
	cap      float64
	allCap   float64
}

// New returns a Bank working with o.
func New(o Options) *Bank {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Bank{store: o.Store, game: o.Game, keys: o.Keys, settings: o.Settings, audit: audit.Log{Store: o.Store, Logger: o.Logger},
		logger: o.Logger, now: o.Now, cap: o.Cap, allCap: o.AllianceCap}
}

// Holdings reads what the alliance's bank holds, with one of its own
// managers' keys that may see it (keys.WithAllianceKey; a
// *keys.NoAllianceKey when none can). The caller checks canViewBank.
func (b *Bank) Holdings(ctx context.Context, a store.Alliance) (pnw.Result[pnw.AllianceBank], error) {
	var bank pnw.Result[pnw.AllianceBank]
	err := b.keys.WithAllianceKey(ctx, a, true, func(key string) error {
		var err error
		bank, err = b.game.AllianceBank(ctx, key, int(a.PnwAllianceID))
		return err
	})
	return bank, err
}

// Prices are the market's average prices by resource, money at 1.
type Prices map[pnw.Resource]float64

// Prices reads the market's average prices.
func (b *Bank) Prices(ctx context.Context) (Prices, error) {
	p, err := b.game.TradePrices(ctx)
	if err != nil {
		return nil, err
	}
	prices := Prices{pnw.Money: 1}
	for _, r := range p.Data.Resources {
		if res, ok := pnw.ResourceNamed(strings.ToLower(r.Resource)); ok {
			prices[res] = float64(r.AveragePrice)
		}
	}
	return prices, nil
}

// Worth is the value of a in dollars at p; unpriced lists what has no
// price (counted at nothing).
func (p Prices) Worth(a pnw.Amounts) (value float64, unpriced []pnw.Resource) {
	for r, v := range a {
		price, ok := p[pnw.Resource(r)]
		if v != 0 && !(ok && price > 0) {
			unpriced = append(unpriced, pnw.Resource(r))
		}
		value += v * price
	}
	return value, unpriced
}

// ErrCapUnread says the daily cap could not be read, so nothing that
// counts against it may be done.
var ErrCapUnread = fmt.Errorf("the daily withdrawal cap is unknown until app_config has been read")

// Caps are the daily caps: per manager and per alliance.
type Caps struct{ Manager, Alliance float64 }

// Cap is the daily caps. Until app_config has been read they are unknown
// (ErrCapUnread), not the defaults: an administrator's lower cap must not
// give way to a failed read.
func (b *Bank) Cap(ctx context.Context) (Caps, error) {
	c := Caps{Manager: b.cap, Alliance: b.allCap}
	for _, v := range []struct {
		into *float64
		key  settings.Key
	}{{&c.Manager, settings.WithdrawalCap}, {&c.Alliance, settings.WithdrawalAllianceCap}} {
		if *v.into > 0 {
			continue
		}
		limit, err := b.settings.Strict(ctx, v.key)
		if err != nil {
			return c, fmt.Errorf("%w: %w", ErrCapUnread, err)
		}
		*v.into = float64(limit)
	}
	return c, nil
}

// withinCap checks that the manager (by Discord id, so that deleting the
// account and being added again starts nothing afresh) and the alliance
// may withdraw value more in the last 24 hours under caps (read before any
// transaction: its read takes a connection of its own). When they may
// not, it returns the refusal's message.
func (b *Bank) withinCap(ctx context.Context, q *store.Queries, m keys.Actor, value float64, caps Caps) (refusal string, err error) {
	since := b.now().Add(-24 * time.Hour)
	spent, err := q.WithdrawalSpentSince(ctx, store.WithdrawalSpentSinceParams{RequesterDiscordID: m.User.DiscordID, Since: since})
	if err != nil {
		return "", fmt.Errorf("withdrawn today: %w", err)
	}
	if spent+value > caps.Manager {
		return capMessage("your", max(caps.Manager-spent, 0)), nil
	}
	spent, err = q.WithdrawalAllianceSpentSince(ctx, store.WithdrawalAllianceSpentSinceParams{AllianceID: m.Alliance.ID, Since: since})
	if err != nil {
		return "", fmt.Errorf("alliance withdrawn today: %w", err)
	}
	if spent+value > caps.Alliance {
		return capMessage(m.Alliance.Name+"'s", max(caps.Alliance-spent, 0)), nil
	}
	return "", nil
}
