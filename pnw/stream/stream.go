// Package stream follows the game's real-time subscriptions: channels got
// from its subscribe endpoint, authorized by its auth endpoint, delivered
// over a Pusher websocket (protocol 7). It knows no model: a caller names
// model, event and filters, and gets each record as JSON.
//
//	c := stream.New(stream.Options{SubscriptionsURL: ..., SocketURL: ..., APIKey: key})
//	err := c.Run(ctx, []stream.Subscription{{Model: "war", Event: "create",
//		Filters: url.Values{"def_alliance_id": {"790,791"}}}}, handle)
//
// Run reconnects by the Pusher close-code rules, authorizes every channel
// again on each new socket, and replays what was missed: it asks for
// metadata and keeps, per model and event, the time of the newest event
// seen, then rolls a reused channel back to it (or, when the channel
// expired, subscribes anew from it). The game's facts this follows are in
// docs PNW-SUBSCRIPTIONS.md. Replays overlap: handlers must be idempotent.
package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the game's endpoints.
const (
	DefaultSubscriptionsURL = "https://api.politicsandwar.com/subscriptions/v1"
	DefaultSocketURL        = "wss://socket.politicsandwar.com/app/a22734a47847a64386c8?protocol=7"
)

// Protocol timings: the Pusher protocol's, and the clients' that the game's
// stream is known to work with.
const (
	maxActivity     = 120 * time.Second // ping after at most this much silence
	pongWait        = 30 * time.Second  // no answer to a ping then: reconnect
	subscribeWait   = 60 * time.Second  // for pusher_internal:subscription_succeeded
	establishWait   = 30 * time.Second  // for pusher:connection_established
	httpTimeout     = 15 * time.Second
	maxBackoff      = 30 * time.Second
	maxMessageBytes = 64 << 20 // bulk frames can be large
)

// ErrClosedForGood is Run's answer when the game closed the socket with a
// code in 4000-4099: the Pusher protocol says not to reconnect.
var ErrClosedForGood = errors.New("stream: the game closed the stream for good (close code 4000-4099)")

// Options configure a Client.
type Options struct {
	// SubscriptionsURL holds subscribe, auth and rollback.
	SubscriptionsURL string
	// SocketURL is the Pusher websocket, with its app key and protocol.
	SocketURL string
	// APIKey subscribes; it is never logged nor put in an error.
	APIKey string
	// HTTP makes the subscribe, auth and rollback calls; nil: a client
	// with a 15 s timeout.
	HTTP *http.Client
	// Positions keeps the newest event seen beyond this process; nil: in
	// memory only.
	Positions  Positions
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: no metrics
}

// Positions keeps, per model and event ("war/create"), the time of the
// newest event seen, so that the next client to follow them, in this
// process or another, resumes from it.
type Positions interface {
	// Load returns the saved time; false when none was.
	Load(ctx context.Context, key string) (Stamp, bool, error)
	// Save keeps s, unless a later time is kept already.
	Save(ctx context.Context, key string, s Stamp) error
}

// maxResume is how old a saved time may be and still be resumed from: the
// game replays about 10 minutes (unconfirmed), and the poll that backs the
// stream covers a longer gap.
const maxResume = 10 * time.Minute

// Subscription is one stream of the game: a model ("war", "bankrec"), an
// event ("create", "update", "delete") and filters ("att_alliance_id":
// "1,2"; several values comma-joined).
type Subscription struct {
	Model   string
	Event   string
	Filters url.Values
}

func (s Subscription) String() string { return s.Model + "/" + s.Event + "?" + s.Filters.Encode() }

// Event is what a channel delivered: records of one model and event, each
// a JSON object with the GraphQL field names.
type Event struct {
	Model   string
	Event   string
	Records []json.RawMessage
}

// Handler takes each event, in the order the socket delivered them. An
// error is logged; the poll that backs the stream repairs what it missed.
type Handler func(ctx context.Context, e Event) error

// Stamp is the game's time of an event, as its metadata gives it.
type Stamp struct {
	Millis int64 `json:"millis"`
	Nanos  int64 `json:"nanos"`
}

func (s Stamp) after(o Stamp) bool {
	return s.Millis > o.Millis || s.Millis == o.Millis && s.Nanos > o.Nanos
}

// Client follows subscriptions; Run does the work. Its Connected method is
// safe for concurrent use.
type Client struct {
	o         Options
	log       *slog.Logger
	http      *http.Client
	connected atomic.Bool
	metrics   *metrics

	mu     sync.Mutex
	newest map[string]Stamp // the newest event seen, by model/event
}

// New returns a client; nothing connects before Run.
func New(o Options) *Client {
	if o.SubscriptionsURL == "" {
		o.SubscriptionsURL = DefaultSubscriptionsURL
	}
	if o.SocketURL == "" {
		o.SocketURL = DefaultSocketURL
	}
	c := &Client{o: o, log: o.Logger, http: o.HTTP, newest: map[string]Stamp{}, metrics: newMetrics(o.Registerer)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: httpTimeout}
	}
	c.o.SubscriptionsURL = strings.TrimRight(c.o.SubscriptionsURL, "/")
	return c
}

// Connected reports whether a socket is open with every channel
// subscribed.
func (c *Client) Connected() bool { return c.connected.Load() }

// Newest returns the time of the newest event seen of model and event.
func (c *Client) Newest(model, event string) (Stamp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.newest[model+"/"+event]
	return s, ok
}

// saw keeps s as the newest time of key when it is, and says whether it was.
func (c *Client) saw(key string, s Stamp) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.newest[key]; ok && !s.after(old) {
		return false
	}
	c.newest[key] = s
	return true
}

// resume takes the saved time of each subscription's model and event when
// it is later than what this client saw (another replica may have followed
// them since) and recent enough to replay from.
func (c *Client) resume(ctx context.Context, subs []Subscription) {
	if c.o.Positions == nil {
		return
	}
	oldest := time.Now().Add(-maxResume).UnixMilli()
	for _, sub := range subs {
		key := sub.Model + "/" + sub.Event
		s, ok, err := c.o.Positions.Load(ctx, key)
		switch {
		case err != nil:
			c.log.WarnContext(ctx, "pnw stream: the saved position is unreadable; the poll covers what comes before the stream", "subscription", key, "error", err)
		case ok && s.Millis >= oldest:
			c.saw(key, s)
		}
	}
}

// Run follows subs until ctx ends (nil) or the game closes the stream for
// good (ErrClosedForGood). It reconnects on any other failure, with a
// back-off by the close code. A later Run, with the same or other filters,
// resumes each model and event from the newest event this client saw, or
// Positions kept, whichever is later.
func (c *Client) Run(ctx context.Context, subs []Subscription, handle Handler) error {
	chans := make([]*channel, len(subs))
	for i, s := range subs {
		chans[i] = &channel{sub: s}
	}
	c.resume(ctx, subs)
	backoff := time.Second
	for {
		start := time.Now()
		code, err := c.session(ctx, chans, handle)
		c.connected.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		wait := backoff
		switch {
		case code >= 4000 && code <= 4099:
			c.log.ErrorContext(ctx, "pnw stream closed for good by the game", "code", code, "error", err)
			return ErrClosedForGood
		case code >= 4200 && code <= 4299:
			wait = 0
		case code >= 4100 && code <= 4199:
			wait = max(wait, time.Second)
		}
		c.metrics.reconnects.Inc()
		c.log.WarnContext(ctx, "pnw stream disconnected; reconnecting", "code", code, "error", err, "in", wait)
		if time.Since(start) > time.Minute {
			backoff = time.Second // it had been working: start the back-off over
		} else {
			backoff = min(backoff*2, maxBackoff)
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
	}
}

// channel is a subscription's channel on the game, kept across sockets.
type channel struct {
	sub        Subscription
	name       string
	subscribed bool // on the current socket
}

// frame is a Pusher message; data is a JSON string from the server.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data"`
}

// payload returns the data, decoded once more when the server sent it as
// a JSON-encoded string.
func (f frame) payload() []byte {
	var s string
	if json.Unmarshal(f.Data, &s) == nil {
		return []byte(s)
	}
	return f.Data
}

type read struct {
	f   frame
	err error
}

// conn is one socket: frames read by one goroutine, written by Run's.
type conn struct {
	ws       *websocket.Conn
	frames   chan read
	socketID string
	activity time.Duration
}

// session runs one socket: connect, subscribe every channel, then deliver
// events until the socket fails. It returns the close code, if any.
func (c *Client) session(ctx context.Context, chans []*channel, handle Handler) (int, error) {
	dialCtx, cancel := context.WithTimeout(ctx, httpTimeout)
	ws, _, err := websocket.DefaultDialer.DialContext(dialCtx, c.o.SocketURL, nil)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("connect the socket: %w", err)
	}
	defer ws.Close()
	ws.SetReadLimit(maxMessageBytes)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	k := &conn{ws: ws, frames: make(chan read, 16)}
	go func() {
		for {
			var f frame
			_, raw, err := ws.ReadMessage()
			if err == nil {
				err = json.Unmarshal(raw, &f)
			}
			select {
			case k.frames <- read{f, err}:
			case <-readCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()

	r, err := k.next(ctx, establishWait)
	if err != nil {
		return closeCode(err), err
	}
	if r.Event != "pusher:connection_established" {
		return 0, fmt.Errorf("socket opened with %q, not pusher:connection_established", r.Event)
	}
	var est struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	if err := json.Unmarshal(r.payload(), &est); err != nil || est.SocketID == "" {
		return 0, fmt.Errorf("connection_established without a socket id")
	}
	k.socketID = est.SocketID
	k.activity = maxActivity
	if est.ActivityTimeout > 0 {
		k.activity = min(maxActivity, time.Duration(est.ActivityTimeout)*time.Second)
	}

	for _, ch := range chans {
		ch.subscribed = false
		if err := c.join(ctx, k, ch, chans, handle); err != nil {
			return closeCode(err), err
		}
	}
	c.connected.Store(true)
	c.metrics.connected.Set(1)
	defer c.metrics.connected.Set(0)
	c.log.InfoContext(ctx, "pnw stream connected", "channels", len(chans))

	// Silence for k.activity: ping; no answer for pongWait more: reconnect.
	timer := time.NewTimer(k.activity)
	defer timer.Stop()
	pinged := false
	for {
		select {
		case <-ctx.Done():
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return 0, ctx.Err()
		case <-timer.C:
			if pinged {
				return 4201, errors.New("no pong from the game within 30 s")
			}
			if err := k.send("pusher:ping", "", map[string]any{}); err != nil {
				return 0, err
			}
			pinged = true
			timer.Reset(pongWait)
		case r := <-k.frames:
			if r.err != nil {
				return closeCode(r.err), r.err
			}
			pinged = false
			timer.Reset(k.activity)
			if err := c.dispatch(ctx, k, r.f, chans, handle); err != nil {
				return 0, err
			}
		}
	}
}

// next waits for the next frame, up to wait.
func (k *conn) next(ctx context.Context, wait time.Duration) (frame, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return frame{}, ctx.Err()
	case <-t.C:
		return frame{}, fmt.Errorf("nothing from the socket in %s", wait)
	case r := <-k.frames:
		return r.f, r.err
	}
}

func (k *conn) send(event, channel string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_ = k.ws.SetWriteDeadline(time.Now().Add(httpTimeout))
	return k.ws.WriteJSON(frame{Event: event, Channel: channel, Data: b})
}

// dispatch handles one frame: events go to handle, metadata moves the
// channel's newest time, pings are answered.
func (c *Client) dispatch(ctx context.Context, k *conn, f frame, chans []*channel, handle Handler) error {
	switch f.Event {
	case "pusher:ping":
		return k.send("pusher:pong", "", map[string]any{})
	case "pusher:pong", "pusher:connection_established":
		return nil
	case "pusher:error":
		c.log.WarnContext(ctx, "pnw stream error from the game", "data", string(f.payload()))
		return nil
	case "pusher_internal:subscription_succeeded":
		for _, ch := range chans {
			if ch.name == f.Channel {
				ch.subscribed = true
			}
		}
		return nil
	}
	var ch *channel
	for _, x := range chans {
		if x.name == f.Channel && f.Channel != "" {
			ch = x
		}
	}
	if ch == nil {
		return nil // a channel this session left
	}
	name := strings.TrimPrefix(f.Event, "BULK_")
	if strings.HasSuffix(name, "_METADATA") {
		var m struct {
			After Stamp `json:"after"`
			Max   Stamp `json:"max"`
		}
		if err := json.Unmarshal(f.payload(), &m); err != nil {
			c.log.WarnContext(ctx, "pnw stream: unreadable metadata", "event", f.Event)
			return nil
		}
		key := ch.sub.Model + "/" + ch.sub.Event
		last, seen := c.Newest(ch.sub.Model, ch.sub.Event)
		if c.saw(key, m.Max) && c.o.Positions != nil {
			// The metadata follows its batch's events, handled by now: a
			// replica resuming from it misses none of them.
			if err := c.o.Positions.Save(ctx, key, m.Max); err != nil {
				c.log.WarnContext(ctx, "pnw stream: position not saved", "subscription", key, "error", err)
			}
		}
		if seen && m.After.after(last) {
			// Events between last and After never came: ask for them again.
			c.log.WarnContext(ctx, "pnw stream: a gap in the events; rolling back", "subscription", ch.sub.Model+"/"+ch.sub.Event)
			if _, err := c.rollback(ctx, ch.name, last); err != nil {
				c.log.WarnContext(ctx, "pnw stream: rollback failed", "error", err)
			}
		}
		return nil
	}
	if name != strings.ToUpper(ch.sub.Model+"_"+ch.sub.Event) {
		return nil
	}
	body := f.payload()
	var records []json.RawMessage
	if strings.HasPrefix(f.Event, "BULK_") {
		if err := json.Unmarshal(body, &records); err != nil {
			c.log.WarnContext(ctx, "pnw stream: unreadable bulk event", "event", f.Event)
			return nil
		}
	} else {
		records = []json.RawMessage{body}
	}
	c.metrics.events.WithLabelValues(ch.sub.Model).Add(float64(len(records)))
	if err := handle(ctx, Event{Model: ch.sub.Model, Event: ch.sub.Event, Records: records}); err != nil {
		c.log.WarnContext(ctx, "pnw stream: event not handled", "model", ch.sub.Model, "event", ch.sub.Event, "error", err)
	}
	return nil
}

// join subscribes ch on the socket: a channel kept from the last socket is
// authorized again and rolled back to the newest event seen; an expired
// one (auth or rollback refused) is replaced by a new channel that starts
// from that time.
func (c *Client) join(ctx context.Context, k *conn, ch *channel, chans []*channel, handle Handler) error {
	since, seen := c.Newest(ch.sub.Model, ch.sub.Event)
	fresh := ch.name == ""
	if fresh {
		if err := c.subscribe(ctx, ch, since, seen); err != nil {
			return err
		}
	}
	auth, err := c.auth(ctx, k.socketID, ch.name)
	if errors.Is(err, errExpired) && !fresh {
		fresh = true
		if err := c.subscribe(ctx, ch, since, seen); err != nil {
			return err
		}
		auth, err = c.auth(ctx, k.socketID, ch.name)
	}
	if err != nil {
		return err
	}
	if err := k.send("pusher:subscribe", "", map[string]string{"channel": ch.name, "auth": auth}); err != nil {
		return err
	}
	deadline := time.Now().Add(subscribeWait)
	for !ch.subscribed {
		f, err := k.next(ctx, time.Until(deadline))
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", ch.sub.Model+"/"+ch.sub.Event, err)
		}
		if err := c.dispatch(ctx, k, f, chans, handle); err != nil {
			return err
		}
	}
	if fresh || !seen {
		return nil // a new channel starts where since says
	}
	ok, err := c.rollback(ctx, ch.name, since)
	if err != nil {
		return err
	}
	if !ok { // expired between auth and rollback: start over on a new channel
		_ = k.send("pusher:unsubscribe", "", map[string]string{"channel": ch.name})
		ch.name, ch.subscribed = "", false
		return c.join(ctx, k, ch, chans, handle)
	}
	return nil
}

var errExpired = errors.New("the channel expired")

// subscribe gets a new channel for ch's subscription, starting at since
// when seen.
func (c *Client) subscribe(ctx context.Context, ch *channel, since Stamp, seen bool) error {
	q := url.Values{}
	for k, v := range ch.sub.Filters {
		q[k] = v
	}
	q.Set("api_key", c.o.APIKey)
	q.Set("metadata", "true")
	if seen {
		q.Set("since", strconv.FormatInt(since.Millis, 10))
		q.Set("nanos", strconv.FormatInt(since.Nanos, 10))
	}
	u := c.o.SubscriptionsURL + "/subscribe/" + url.PathEscape(strings.ToLower(ch.sub.Model)) + "/" + url.PathEscape(strings.ToLower(ch.sub.Event)) + "?" + q.Encode()
	var answer struct {
		Channel string `json:"channel"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	status, err := c.call(ctx, http.MethodGet, u, "", nil, &answer)
	what := "subscribe " + ch.sub.Model + "/" + ch.sub.Event
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	case answer.Channel == "":
		return fmt.Errorf("%s: the game answered %d: %s", what, status, strings.TrimSpace(answer.Error+" "+answer.Message))
	}
	ch.name = answer.Channel
	return nil
}

// auth authorizes the socket on a channel: a form of socket_id and
// channel_name, no key. Any answer but 200 means the channel expired.
func (c *Client) auth(ctx context.Context, socketID, channel string) (string, error) {
	form := url.Values{"socket_id": {socketID}, "channel_name": {channel}}
	var answer struct {
		Auth string `json:"auth"`
	}
	status, err := c.call(ctx, http.MethodPost, c.o.SubscriptionsURL+"/auth", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), &answer)
	switch {
	case err != nil:
		return "", fmt.Errorf("authorize a channel: %w", err)
	case status != http.StatusOK || answer.Auth == "":
		return "", fmt.Errorf("authorize a channel: the game answered %d: %w", status, errExpired)
	}
	return answer.Auth, nil
}

// rollback asks the game to send the channel's events since that time
// again; false when the channel expired (404).
func (c *Client) rollback(ctx context.Context, channel string, since Stamp) (bool, error) {
	body, _ := json.Marshal(map[string]any{"channel_name": channel, "time": since.Millis, "nanos": since.Nanos})
	status, err := c.call(ctx, http.MethodPost, c.o.SubscriptionsURL+"/rollback", "application/json", strings.NewReader(string(body)), nil)
	switch {
	case err != nil:
		return false, fmt.Errorf("roll back a channel: %w", err)
	case status == http.StatusNotFound:
		return false, nil
	case status >= 300:
		return false, fmt.Errorf("roll back a channel: the game answered %d", status)
	}
	return true, nil
}

// call makes one HTTP call and decodes a JSON answer into out when given.
// Errors never carry the URL: it holds the API key.
func (c *Client) call(ctx context.Context, method, u, contentType string, body io.Reader, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, errors.New("bad subscriptions URL")
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return res.StatusCode, err
	}
	if out != nil {
		_ = json.Unmarshal(raw, out) // a non-JSON error page leaves out empty
	}
	return res.StatusCode, nil
}

// closeCode is the websocket close code of err, or 0.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

type metrics struct {
	connected  prometheus.Gauge
	events     *prometheus.CounterVec
	reconnects prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pnwbot_pnw_stream_connected", Help: "1 while this replica holds the game's subscriptions stream, connected with every channel subscribed.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pnwbot_pnw_stream_events_total", Help: "Records received from the game's subscriptions stream, by model.",
		}, []string{"model"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pnwbot_pnw_stream_reconnects_total", Help: "Times the game's subscriptions stream was lost and connected again.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.connected, m.events, m.reconnects)
	}
	return m
}
