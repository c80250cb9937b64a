package pnw

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// budgetReserve is the share of the bot key's daily requests kept back: with
// fewer left, lookups with the key serve cached data only, so it never runs
// dry and its own checks (`me`) still go through.
const budgetReserve = 0.10

const day = 24 * time.Hour

// Allowance rations the bot key's requests among users: Allow says whether
// key (one user's) may make one more lookup that spends a request, and when
// not, how long until it may. store/kv's limiters implement it, over a
// daily rate.
type Allowance interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// KeyBudget is a key's daily request budget: what the game last reported
// (X-RateLimit headers or me { requests max_requests }), less the requests
// sent with the key since.
type KeyBudget struct {
	KeyID     string    // names the key without revealing it, as in logs
	Own       bool      // the bot's own key, PNW_API_KEY
	Limit     int       // requests a day
	Remaining int       // requests left until Reset
	Reset     time.Time // when the game's count starts again
	Reported  time.Time // when the game last reported the count
}

// Low says whether lookups with the key serve cached data only.
func (b KeyBudget) Low() bool { return float64(b.Remaining) <= float64(b.Limit)*budgetReserve }

// KeyBudgets reports each key's remaining daily budget: the bot's own key
// first, then the other keys used since the client started. A key the game
// has not reported on yet is left out.
func (c *Client) KeyBudgets() []KeyBudget {
	now := time.Now()
	c.budgets.mu.Lock()
	out := make([]KeyBudget, 0, len(c.budgets.keys))
	for kid := range c.budgets.keys {
		b, _ := c.budgets.get(kid, now)
		b.Own = kid == c.budgets.own
		out = append(out, b)
	}
	c.budgets.mu.Unlock()
	slices.SortFunc(out, func(a, b KeyBudget) int {
		if a.Own != b.Own {
			if a.Own {
				return -1
			}
			return 1
		}
		return strings.Compare(a.KeyID, b.KeyID)
	})
	return out
}

// budgetRecheck is how old the game's last count of the bot key's requests
// may be before RecheckBudget asks it again.
const budgetRecheck = time.Hour

// RecheckBudget asks the game for the bot key's count (one `me` request)
// unless an answer reported it within the hour. The X-RateLimit headers of
// every answer usually do; a start while the game was down, or headers that
// count per minute, leave `me` as the only source.
func (c *Client) RecheckBudget(ctx context.Context) error {
	c.budgets.mu.Lock()
	b, known := c.budgets.get(c.budgets.own, time.Now())
	c.budgets.mu.Unlock()
	if known && time.Since(b.Reported) < budgetRecheck {
		return nil
	}
	_, err := c.Me(ctx, c.apiKey)
	return err
}

// ownRemaining is the bot key's remaining requests, NaN while unknown: the
// pnw_api_key_requests_remaining gauge.
func (c *Client) ownRemaining() float64 {
	c.budgets.mu.Lock()
	defer c.budgets.mu.Unlock()
	b, ok := c.budgets.get(c.budgets.own, time.Now())
	if !ok {
		return math.NaN()
	}
	return float64(b.Remaining)
}

// spend decides whether a lookup that missed the cache may spend a request
// of the bot's own key: not while the key's budget is low, nor for a caller
// who needs an account and has none yet, nor past the caller's daily
// allowance.
func (c *Client) spend(ctx context.Context, op string) error {
	now := time.Now()
	c.budgets.mu.Lock()
	b, known := c.budgets.get(c.budgets.own, now)
	c.budgets.mu.Unlock()
	// A count that starts again within maxRateWait is a short rest, which
	// do waits out.
	if known && b.Low() && b.Reset.Sub(now) > maxRateWait {
		return &Error{Kind: ErrBudgetLow, Op: op, Reset: b.Reset, Message: fmt.Sprintf("%d of %d requests left today", b.Remaining, b.Limit)}
	}
	caller, _ := ctx.Value(callerKey{}).(Caller)
	if caller.NeedsAccount && caller.UserID == 0 {
		return &Error{Kind: ErrNoAccount, Op: op}
	}
	if c.allowance != nil && caller.DiscordID != "" {
		ok, wait, err := c.allowance.Allow(ctx, "lookups:"+caller.DiscordID)
		switch {
		case err != nil:
			// The budget still bounds the key: nobody is refused for our outage.
			c.log.WarnContext(ctx, "pnw lookup allowance unavailable, allowing", "op", op, "err", err)
		case !ok:
			return &Error{Kind: ErrAllowanceSpent, Op: op, Reset: now.Add(wait)}
		}
	}
	return nil
}

// maxKeyBudgets bounds the keys budgets remembers. Each linked member's
// and manager's key is counted, and someone sending key after key (linking
// a stream of them) must not grow memory without bound: past it, the key
// the game reported on longest ago is forgotten (its count comes back with
// its next answer). The bot's own key is always kept.
const maxKeyBudgets = 10_000

// budgets tracks each key's KeyBudget, by keyID; own names the bot's key.
type budgets struct {
	mu   sync.Mutex
	keys map[string]*KeyBudget
	own  string
}

// get returns the key's budget as of now, refilled past its reset; ok is
// false until the game has reported it. The caller holds mu.
func (b *budgets) get(kid string, now time.Time) (KeyBudget, bool) {
	k := b.keys[kid]
	if k == nil {
		return KeyBudget{}, false
	}
	if !now.Before(k.Reset) {
		k.Reset = k.Reset.Add((now.Sub(k.Reset)/day + 1) * day)
		k.Remaining = k.Limit
	}
	return *k, true
}

// report records the game's count for a key; a zero reset keeps the known
// one, or else takes the next midnight UTC, when the game's day ends.
func (b *budgets) report(kid string, limit, remaining int, reset, now time.Time) {
	if limit <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.keys[kid]
	if k == nil {
		if len(b.keys) >= maxKeyBudgets {
			b.forgetOldest()
		}
		k = &KeyBudget{KeyID: kid}
		b.keys[kid] = k
	}
	if reset.IsZero() {
		reset = k.Reset
		if !now.Before(reset) {
			reset = now.UTC().Truncate(day).Add(day)
		}
	}
	k.Limit, k.Remaining, k.Reset, k.Reported = limit, max(remaining, 0), reset, now
}

// forgetOldest drops the key, other than the bot's own, whose count the
// game reported longest ago. The caller holds mu.
func (b *budgets) forgetOldest() {
	var oldest *KeyBudget
	for kid, k := range b.keys {
		if kid != b.own && (oldest == nil || k.Reported.Before(oldest.Reported)) {
			oldest = k
		}
	}
	if oldest != nil {
		delete(b.keys, oldest.KeyID)
	}
}

// observe reads a response's daily X-RateLimit headers; without them (no
// response, or per-minute headers) it counts the request against the last
// report.
func (b *budgets) observe(kid string, h http.Header, now time.Time) {
	limit, errL := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, errR := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	interval, errI := strconv.Atoi(h.Get("X-RateLimit-Interval"))
	if errL == nil && errR == nil && (errI != nil || interval >= int(day/time.Second)) {
		var reset time.Time
		if u, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && u > 0 {
			reset = time.Unix(u, 0)
		}
		b.report(kid, limit, remaining, reset, now)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if k := b.keys[kid]; k != nil && k.Remaining > 0 {
		k.Remaining--
	}
}
