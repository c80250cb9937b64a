package pnw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/sync/singleflight"

	"pnwbot/breaker"
)

// DefaultURL is the game's GraphQL endpoint.
const DefaultURL = "https://api.politicsandwar.com/graphql"

// DefaultTimeout bounds one request to the game when Options.Timeout is
// not set; the web server's deadlines are derived from it.
const DefaultTimeout = 10 * time.Second

const (
	defaultStaleFor    = 24 * time.Hour
	defaultBatchWindow = 5 * time.Millisecond
	// maxRetries bounds the retries after a 429.
	maxRetries = 3
	// maxRateWait is the longest wait for a reset; a key whose reset is
	// further away (its daily limit) rests and calls fail fast until then.
	maxRateWait = time.Minute
	// The breaker opens after breakerThreshold consecutive game-down errors
	// and fails calls fast for breakerCooldown, then lets one through to see
	// whether the game is back.
	breakerThreshold = 5
	breakerCooldown  = 30 * time.Second
	maxResponseBytes = 32 << 20
	// maxMessageRunes bounds the game's error message kept in an Error.
	maxMessageRunes = 300
)

// Options configures a Client. Zero values get the defaults noted; a nil
// Cache, Usage or Registerer turns that feature off.
type Options struct {
	URL        string                // the GraphQL endpoint; default DefaultURL
	APIKey     string                // the bot's own key, used for public lookups
	BotKey     string                // X-Bot-Key, required for mutations
	HTTPClient *http.Client          // default: a client that follows no redirects (Timeout bounds each request)
	Timeout    time.Duration         // per upstream request; default 10s
	Cache      Cache                 // store/kv's; nil: nothing is cached
	Usage      UsageSink             // nil: no api_usage_logs rows
	Allowance  Allowance             // rations each user's lookups that spend the bot's own key (see Caller.DiscordID); nil: the key's budget alone
	Registerer prometheus.Registerer // where the metrics go; nil: not registered
	Logger     *slog.Logger          // default: discard
	// StaleFor is how long data is kept past its TTL, to be served (marked
	// stale) while the game is down; default 24h.
	StaleFor time.Duration
	// TTL says how long data of a kind (nation, alliance, members, wars,
	// bank, trades or prices) is fresh, read at each store; default
	// DefaultTTL for every kind.
	TTL func(ctx context.Context, kind string) time.Duration
	// BatchWindow is how long Nation waits to merge concurrent lookups into
	// one query; default 5ms.
	BatchWindow time.Duration
	// HotFor is how long this process keeps public data it read from
	// Cache or fetched, decoded, in its own memory (never past the data's
	// TTL): another replica's invalidation reaches it only then. Zero
	// keeps none. See hot.
	HotFor time.Duration
}

// Client calls the game's API. It is safe for concurrent use; Close it to
// flush the usage log.
type Client struct {
	base     *url.URL
	apiKey   string
	botKey   string
	http     *http.Client
	timeout  time.Duration
	staleFor time.Duration
	cache    Cache
	hot      *hot
	ttlOf    func(context.Context, string) time.Duration
	usage    *usageWriter
	metrics  *metrics
	log      *slog.Logger
	flights  singleflight.Group
	nations  *batcher
	limits   limiter
	breaker  *breaker.Breaker

	// budgets holds each key's daily count.
	budgets   budgets
	allowance Allowance
}

// New builds a client and registers its metrics on opts.Registerer.
func New(opts Options) (*Client, error) {
	if opts.URL == "" {
		opts.URL = DefaultURL
	}
	base, err := url.Parse(opts.URL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, errors.New("pnw: invalid API URL")
	}
	base.RawQuery = ""
	c := &Client{
		base:     base,
		apiKey:   opts.APIKey,
		botKey:   opts.BotKey,
		http:     orDefault(opts.HTTPClient, &http.Client{CheckRedirect: noRedirects}),
		timeout:  orDefault(opts.Timeout, DefaultTimeout),
		staleFor: orDefault(opts.StaleFor, defaultStaleFor),
		cache:    opts.Cache,
		hot:      newHot(0),
		ttlOf:    opts.TTL,
		log:      orDefault(opts.Logger, slog.New(slog.DiscardHandler)),
		limits:   limiter{until: map[string]time.Time{}},
		breaker:  breaker.New("pnw", breakerThreshold, breakerCooldown, nil),

		budgets:   budgets{keys: map[string]*KeyBudget{}, own: keyID(opts.APIKey)},
		allowance: opts.Allowance,
	}
	if c.metrics, err = newMetrics(opts.Registerer, c.ownRemaining); err != nil {
		return nil, err
	}
	c.nations = &batcher{c: c, window: orDefault(opts.BatchWindow, defaultBatchWindow)}
	if opts.Cache != nil {
		// Sized by what the cache stores: without one, nothing is kept.
		c.hot = newHot(opts.HotFor)
	}
	if opts.Usage != nil {
		c.usage = newUsageWriter(opts.Usage, c.metrics.usageDropped, c.log)
	}
	return c, nil
}

// noRedirects keeps the key headers from following a redirect to another
// host.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// orDefault returns v, or def when v is the zero value.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Close flushes the usage log, waiting at most until ctx is done.
func (c *Client) Close(ctx context.Context) error {
	if c.usage == nil {
		return nil
	}
	return c.usage.close(ctx)
}

// Caller identifies who a call is made for: for the usage log, the bot's
// own users.id and alliances.id (not game ids), zero meaning none; for the
// daily allowance of lookups that spend the bot's key, the Discord user.
type Caller struct {
	UserID     int64
	AllianceID int64
	DiscordID  string // empty: no allowance applies (the bot's own work)
	// NeedsAccount: what each user spends of the bot's key is logged on
	// their account, so a lookup that would spend it fails with
	// ErrNoAccount while UserID is zero; unset, the spend is logged
	// without a user.
	NeedsAccount bool
}

type callerKey struct{}

// WithCaller attaches the caller of the calls made with ctx: recorded in
// api_usage_logs, and charged for lookups that spend the bot's key.
func WithCaller(ctx context.Context, caller Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

// trace counts the upstream requests made on behalf of one call, so a call
// that made none is logged as served from cache.
type trace struct{ upstream atomic.Int32 }

type traceKey struct{}

func withTrace(ctx context.Context) (context.Context, *trace) {
	t := &trace{}
	return context.WithValue(ctx, traceKey{}, t), t
}

// keyID names a key in cache keys and logs without revealing it.
func keyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

func queryHash(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:8])
}

// keyed is a genqlient client bound to one key.
type keyed struct {
	c        *Client
	key      string
	mutation bool
}

func (k keyed) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	return k.c.do(ctx, k.key, k.mutation, req, resp)
}

// do sends one operation, waiting out short rate limits and retrying 429s.
func (c *Client) do(ctx context.Context, key string, mutation bool, req *graphql.Request, resp *graphql.Response) error {
	op := req.OpName
	if key == "" {
		return notSent{&Error{Kind: ErrInvalidKey, Op: op, Message: "no API key"}}
	}
	if mutation && c.botKey == "" {
		return notSent{&Error{Kind: ErrPermission, Op: op, Message: "no bot key configured"}}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return notSent{&Error{Kind: ErrInvalidQuery, Op: op, Message: "cannot encode request"}}
	}
	kid, qh := keyID(key), queryHash(req.Query)
	if err := c.limits.wait(ctx, kid, op); err != nil {
		return notSent{err}
	}
	for attempt := 0; ; attempt++ {
		done, err := c.breaker.Allow()
		if err != nil {
			return notSent{&Error{Kind: ErrGameDown, Op: op, Message: "circuit open after repeated failures"}}
		}
		start := time.Now()
		status, header, err := c.send(ctx, key, mutation, op, body, resp)
		elapsed := time.Since(start)
		c.limits.observe(kid, status, header)
		c.budgets.observe(kid, header, time.Now())
		done(breakerOutcome(status, err))
		c.metrics.observeUpstream(op, status, elapsed)
		c.usage.record(ctx, op, qh, status, elapsed, false)
		if t, ok := ctx.Value(traceKey{}).(*trace); ok {
			t.upstream.Add(1)
		}
		if err == nil {
			return nil
		}
		c.log.WarnContext(ctx, "pnw request failed", "op", op, "key_id", kid, "status", status, "attempt", attempt+1, "err", err)
		// A 429 was not executed, so even a mutation may be retried, once
		// the reset comes within reach.
		if status != http.StatusTooManyRequests || attempt >= maxRetries {
			return err
		}
		if c.limits.wait(ctx, kid, op) != nil {
			return notSent{err} // a 429 was not executed either
		}
	}
}

// send makes one HTTP request. The key goes in the URL for queries and in
// headers for mutations, and never into the returned error.
func (c *Client) send(ctx context.Context, key string, mutation bool, op string, body []byte, resp *graphql.Response) (int, http.Header, error) {
	u := *c.base
	if !mutation {
		u.RawQuery = url.Values{"api_key": {key}}.Encode()
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, notSent{&Error{Kind: ErrInvalidQuery, Op: op, Message: "cannot build request"}}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if mutation {
		req.Header.Set("X-Api-Key", key)
		req.Header.Set("X-Bot-Key", c.botKey)
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil { // the caller gave up: not the game's fault
			err = fmt.Errorf("pnw %s: %w", op, ctx.Err())
		} else {
			err = &Error{Kind: ErrGameDown, Op: op, Err: c.redactURL(err)}
		}
		// A failed dial (connection refused, no route, DNS) wrote nothing.
		var dial *net.OpError
		if errors.As(err, &dial) && dial.Op == "dial" {
			err = notSent{err}
		}
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		if ctx.Err() != nil {
			return res.StatusCode, res.Header, fmt.Errorf("pnw %s: %w", op, ctx.Err())
		}
		return res.StatusCode, res.Header, &Error{Kind: ErrGameDown, Op: op, Status: res.StatusCode, Err: c.redactURL(err)}
	}

	e := &Error{Op: op, Status: res.StatusCode}
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, resp); err != nil {
			e.Kind, e.Message = ErrGameDown, "malformed response"
			return res.StatusCode, res.Header, e
		}
		if len(resp.Errors) == 0 {
			return res.StatusCode, res.Header, nil
		}
		msg, category := c.firstError(resp.Errors, key)
		e.Kind, e.Message = classify(msg, category), msg
		for _, ge := range resp.Errors {
			e.Executed = e.Executed || mutation && ge != nil && len(ge.Path) > 1
		}
		e.Refused = mutation && !e.Executed && refusedBeforeRunning(e.Kind, msg, category)
	} else {
		// Error bodies may be JSON GraphQL errors or an HTML page.
		var body graphql.Response
		if json.Unmarshal(raw, &body) == nil && len(body.Errors) > 0 {
			e.Message, _ = c.firstError(body.Errors, key)
		}
		// The key, permission and rate checks answer before anything
		// runs; any other status may come from after a mutation ran.
		e.Refused = mutation && (res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden ||
			res.StatusCode == http.StatusTooManyRequests)
		switch {
		case res.StatusCode == http.StatusUnauthorized:
			e.Kind = ErrInvalidKey
		case res.StatusCode == http.StatusForbidden:
			e.Kind = ErrPermission
		case res.StatusCode == http.StatusTooManyRequests:
			e.Kind = ErrRateLimited
		case res.StatusCode >= 500:
			e.Kind = ErrGameDown
		case e.Message != "":
			e.Kind = classify(e.Message, "")
		default:
			e.Kind = ErrInvalidQuery
		}
	}
	if e.Kind == ErrRateLimited {
		e.Reset = resetTime(res.Header, time.Now())
	}
	return res.StatusCode, res.Header, e
}

// firstError returns the first non-null error's message, redacted and then
// cut to maxMessageRunes: cut first, a key across the cut would survive in
// part.
func (c *Client) firstError(errs gqlerror.List, key string) (message, category string) {
	for _, e := range errs {
		if e == nil {
			continue
		}
		category, _ = e.Extensions["category"].(string)
		message = c.redact(e.Message, key)
		if r := []rune(message); len(r) > maxMessageRunes {
			message = string(r[:maxMessageRunes]) + "…"
		}
		return message, category
	}
	return "", ""
}

// redact removes the key and the bot key from text that came from the game.
func (c *Client) redact(s, key string) string {
	for _, k := range []string{key, c.botKey} {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return s
}

// redactURL replaces the URL in a *url.Error (it carries ?api_key=) with the
// bare endpoint.
func (c *Client) redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: c.base.String(), Err: ue.Err}
	}
	return err
}

// resetTime reads when a rate limit ends from the response headers.
func resetTime(h http.Header, now time.Time) time.Time {
	if s, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64); err == nil && s >= 0 {
		return now.Add(time.Duration(s * float64(time.Second)))
	}
	if u, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && u > 0 {
		return time.Unix(u, 0)
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return now.Add(time.Duration(s) * time.Second)
	}
	return now.Add(time.Second)
}

// limiter remembers, per key, until when the game will refuse it.
type limiter struct {
	mu    sync.Mutex
	until map[string]time.Time // by keyID
}

// wait returns at once when the key may call, sleeps through a short rest
// that fits in ctx, and otherwise fails fast with ErrRateLimited.
func (l *limiter) wait(ctx context.Context, kid, op string) error {
	l.mu.Lock()
	until, ok := l.until[kid]
	d := time.Until(until)
	if ok && d <= 0 {
		delete(l.until, kid)
	}
	l.mu.Unlock()
	if !ok || d <= 0 {
		return nil
	}
	if deadline, has := ctx.Deadline(); d > maxRateWait || has && time.Now().Add(d).After(deadline) {
		return &Error{Kind: ErrRateLimited, Op: op, Reset: until, Message: "key resting until its reset"}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pnw %s: %w", op, ctx.Err())
	}
}

// observe records a 429 or an exhausted X-RateLimit-Remaining.
func (l *limiter) observe(kid string, status int, h http.Header) {
	if status != http.StatusTooManyRequests && h.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	now := time.Now()
	reset := resetTime(h, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	// Rests of keys never used again (unlinked, replaced) are forgotten
	// here, when a rest begins: rarely, and the map holds only keys resting.
	for k, t := range l.until {
		if !t.After(now) {
			delete(l.until, k)
		}
	}
	if reset.After(l.until[kid]) {
		l.until[kid] = reset
	}
}

// breakerOutcome is what an answer tells the breaker: the game is down (a 5xx,
// a timeout, no connection), it answered (a 429 or a refused key too), or
// nothing (the caller gave up first, or nothing was sent).
func breakerOutcome(status int, err error) breaker.Outcome {
	switch {
	case errors.Is(err, ErrGameDown):
		return breaker.Failed
	case status != 0:
		return breaker.Succeeded
	}
	return breaker.Unknown
}
