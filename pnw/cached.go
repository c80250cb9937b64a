package pnw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"
)

// Result is data from the game, fresh or from the cache. Treat Data as
// read-only: concurrent callers may share it.
type Result[T any] struct {
	Data      T
	FetchedAt time.Time // when the game returned it
	// Stale: past its TTL, served because fresh data could not be had; Why
	// says what kept it away (ErrGameDown, ErrRateLimited, ErrBudgetLow,
	// ErrAllowanceSpent).
	Stale bool
	Why   error
}

// Age is how old the data is.
func (r Result[T]) Age() time.Duration { return time.Since(r.FetchedAt) }

// The kinds of data the cache keeps, each fresh for its own TTL.
const (
	kindNation   = "nation"
	kindAlliance = "alliance"
	kindMembers  = "members"
	kindWars     = "wars"
	kindBank     = "bank" // the bank, its records and tax records
	kindTrades   = "trades"
	kindPrices   = "prices"
)

// DefaultTTL is how long data of any kind is fresh without Options.TTL.
// pnwbot passes its settings (cache.<kind>_ttl_seconds), which give each
// kind its own.
const DefaultTTL = 5 * time.Minute

// ttl is how long data of kind is fresh now.
func (c *Client) ttl(ctx context.Context, kind string) time.Duration {
	if c.ttlOf != nil {
		return c.ttlOf(ctx, kind)
	}
	return DefaultTTL
}

const (
	// ttlNotFound is how long the game's "no such nation, alliance or
	// name" is believed, so that asking again for an unknown id or name
	// costs no request.
	ttlNotFound = 30 * time.Minute
)

// cacheVersion prefixes every cache key, so a change of stored shape starts
// from an empty cache.
const cacheVersion = "pnw:v2:"

// cacheTimeout bounds each cache operation: a slow cache costs a miss, not a
// slow command.
const cacheTimeout = 2 * time.Second

// NationTag and AllianceTag name the cache tags InvalidateTag accepts.
func NationTag(id int) string { return "nation:" + strconv.Itoa(id) }

// AllianceTag: see NationTag. Private alliance data (bank, records, trades)
// is tagged with it too, in every key scope.
func AllianceTag(id int) string { return "alliance:" + strconv.Itoa(id) }

// spec describes one cached lookup.
type spec struct {
	op    string // operation name, for metrics and the usage log
	query string // the operation's text, hashed into the usage log
	key   string // cache key; private data includes the key's scope
	kind  string // which TTL applies
	// search: an empty answer (no tags) is a not-found one, kept for
	// ttlNotFound.
	search bool
	// ownKey: fetched with the bot's own key, so a miss spends its budget
	// and the caller's allowance.
	ownKey bool
}

// cached serves s from the cache when fresh, else fetches it once for all
// concurrent callers and caches it, a not-found answer included; when the
// game fails it falls back to the stale entry, marked as such.
func cached[T any](ctx context.Context, c *Client, s spec, fetch func(context.Context) (T, []string, error)) (Result[T], error) {
	start := time.Now()
	ctx, tr := withTrace(ctx)
	key := cacheVersion + s.key
	gen := c.hot.generation()
	if s.ownKey {
		if r, ok := c.hot.get(key, start); ok {
			c.metrics.cache.WithLabelValues(s.op, "hit").Inc()
			c.finish(ctx, s, tr, start, outcome(nil), nil, true)
			return r.(Result[T]), nil
		}
	}
	entry, found := c.cacheGet(ctx, key)
	if found && start.Before(entry.FreshUntil) {
		if r, err, ok := fromEntry[T](s, entry); ok {
			if err == nil && s.ownKey {
				c.hot.put(gen, key, r, start, entry.FreshUntil, len(entry.Data))
			}
			c.metrics.cache.WithLabelValues(s.op, "hit").Inc()
			c.finish(ctx, s, tr, start, outcome(err), err, true)
			return r, err
		}
	}
	if c.cache != nil {
		c.metrics.cache.WithLabelValues(s.op, "miss").Inc()
	}
	var res Result[T]
	var err error
	if s.ownKey {
		if err = c.spend(ctx, s.op); errors.Is(err, ErrNoAccount) {
			return res, err // nothing happened: the caller asks again
		}
	}
	if err == nil {
		res, err = coalesce(ctx, c, key, func(ctx context.Context) (Result[T], error) {
			v, tags, err := fetch(ctx)
			now := time.Now()
			var nf *Error
			if errors.As(err, &nf) && nf.Kind == ErrNotFound {
				c.cachePut(ctx, key, Entry{NotFound: nf.Message, FetchedAt: now, FreshUntil: now.Add(ttlNotFound)}, nil)
			}
			if err != nil {
				return Result[T]{}, err
			}
			ttl := c.ttl(ctx, s.kind)
			if s.search && len(tags) == 0 {
				ttl = max(ttl, ttlNotFound)
			}
			r := Result[T]{Data: v, FetchedAt: now}
			if size := c.cacheSet(ctx, key, v, now, ttl, tags); s.ownKey {
				c.hot.put(gen, key, r, now, now.Add(ttl), size)
			}
			return r, nil
		})
	}
	if err != nil && found && (errors.Is(err, ErrGameDown) || errors.Is(err, ErrRateLimited) || errors.Is(err, ErrBudgetLow) || errors.Is(err, ErrAllowanceSpent)) {
		if r, rerr, ok := fromEntry[T](s, entry); ok {
			r.Stale, r.Why = true, err
			c.metrics.cache.WithLabelValues(s.op, "stale").Inc()
			c.log.WarnContext(ctx, "pnw serving stale data", "op", s.op, "age_ms", time.Since(entry.FetchedAt).Milliseconds(), "err", err)
			c.finish(ctx, s, tr, start, "stale", rerr, true)
			return r, rerr
		}
	}
	c.finish(ctx, s, tr, start, outcome(err), err, false)
	return res, err
}

// fromEntry decodes a cached entry: data, or the game's not-found answer as
// an ErrNotFound. ok is false when the entry cannot be decoded.
func fromEntry[T any](s spec, e Entry) (r Result[T], err error, ok bool) {
	r.FetchedAt = e.FetchedAt
	if e.NotFound != "" {
		return r, &Error{Kind: ErrNotFound, Op: s.op, Message: e.NotFound}, true
	}
	return r, nil, json.Unmarshal(e.Data, &r.Data) == nil
}

// sharedTimeout bounds work shared by several callers: room for a request,
// a short rate-limit wait and a retry. A reset beyond it fails fast.
const sharedTimeout = 20 * time.Second

// shared is the context of work shared by several callers: on no caller's
// cancellation or deadline (each waits on its own), but bounded by
// sharedTimeout. It keeps ctx's values: the caller and the trace.
func shared(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), sharedTimeout)
}

// coalesce runs fetch once for all concurrent callers with the same key, on
// a shared context, and a panic in it becomes an error for all of them. Its
// requests are logged for the caller that started it; the others log their
// own calls as served without one.
func coalesce[T any](ctx context.Context, c *Client, key string, fetch func(context.Context) (T, error)) (T, error) {
	ch := c.flights.DoChan(key, func() (v any, err error) {
		defer c.recoverTo(key, &err)
		ctx, cancel := shared(ctx)
		defer cancel()
		return fetch(ctx)
	})
	var zero T
	select {
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	case <-ctx.Done():
		return zero, fmt.Errorf("pnw: %w", ctx.Err())
	}
}

// recoverTo turns a panic in work shared by several callers into *err for
// all of them: on its own goroutine, the panic would end the process.
func (c *Client) recoverTo(what string, err *error) {
	if v := recover(); v != nil {
		c.log.Error("pnw panic", "in", what, "panic", v, "stack", string(debug.Stack()))
		*err = fmt.Errorf("pnw %s: panic: %v", what, v)
	}
}

// finish counts a call and, when it sent no request itself (served from
// the cache, coalesced, or failed fast), logs it; requests are logged as
// they are sent. A call coalesced with another's request logs as a hit.
func (c *Client) finish(ctx context.Context, s spec, tr *trace, start time.Time, outcome string, err error, fromCache bool) {
	c.metrics.calls.WithLabelValues(s.op, outcome).Inc()
	if tr.upstream.Load() == 0 {
		c.usage.record(ctx, s.op, queryHash(s.query), statusOf(err), time.Since(start), fromCache || err == nil)
	}
}

func (c *Client) cacheGet(ctx context.Context, key string) (Entry, bool) {
	if c.cache == nil {
		return Entry{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
	e, ok, err := c.cache.Get(ctx, key)
	if err != nil {
		c.log.WarnContext(ctx, "pnw cache read failed", "err", err)
	}
	return e, ok && err == nil
}

// cacheSet stores v and returns the size of its JSON.
func (c *Client) cacheSet(ctx context.Context, key string, v any, now time.Time, ttl time.Duration, tags []string) int {
	if c.cache == nil {
		return 0
	}
	data, err := json.Marshal(v)
	if err != nil {
		c.log.ErrorContext(ctx, "pnw cache encode failed", "err", err)
		return 0
	}
	c.cachePut(ctx, key, Entry{Data: data, FetchedAt: now, FreshUntil: now.Add(ttl)}, tags)
	return len(data)
}

// cachePut stores e, kept past its freshness for the stale window.
func (c *Client) cachePut(ctx context.Context, key string, e Entry, tags []string) {
	if c.cache == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheTimeout)
	defer cancel()
	if err := c.cache.Set(ctx, key, e, tags, e.FreshUntil.Sub(e.FetchedAt)+c.staleFor); err != nil {
		c.log.WarnContext(ctx, "pnw cache write failed", "err", err)
	}
}

// InvalidateTag drops every cached entry tagged tag (see NationTag and
// AllianceTag), in every key scope, and empties this process's hot layer.
func (c *Client) InvalidateTag(ctx context.Context, tag string) error {
	c.hot.clear()
	if c.cache == nil {
		return nil
	}
	return c.cache.InvalidateTag(ctx, tag)
}
