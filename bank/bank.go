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
		logger: o.Logger, now: o.Now, cap: o.Cap}
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

// Cap is the daily cap per manager. Until app_config has been read it is
// unknown (ErrCapUnread), not the default: an administrator's lower cap
// must not give way to a failed read.
func (b *Bank) Cap(ctx context.Context) (float64, error) {
	if b.cap > 0 {
		return b.cap, nil
	}
	limit, err := b.settings.Strict(ctx, settings.WithdrawalCap)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrCapUnread, err)
	}
	return float64(limit), nil
}

// withinCap reports whether the manager (users.id) may withdraw value more
// in the last 24 hours under limit (Cap, read before any transaction: its
// read takes a connection of its own), and how much is left.
func (b *Bank) withinCap(ctx context.Context, q *store.Queries, userID int64, value, limit float64) (left float64, ok bool, err error) {
	spent, err := q.WithdrawalSpentSince(ctx, store.WithdrawalSpentSinceParams{RequestedBy: &userID, Since: b.now().Add(-24 * time.Hour)})
	if err != nil {
		return 0, false, fmt.Errorf("withdrawn today: %w", err)
	}
	return max(limit-spent, 0), spent+value <= limit, nil
}
