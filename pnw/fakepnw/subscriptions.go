package fakepnw

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"pnwbot/pnw"
)

// AppKey is the Pusher app key in the fake's socket URL, the game's own.
const AppKey = "a22734a47847a64386c8"

// Subscriptions is a fake of the game's real-time subscriptions, over a
// game fake whose keys it accepts and whose wars it changes: subscribe
// (GET URL/subscribe/{model}/{event}?api_key=&filters&metadata=&since=&nanos=),
// auth (POST URL/auth, a form of socket_id and channel_name), rollback
// (POST URL/rollback, JSON channel_name, time, nanos) and a Pusher
// websocket at SocketURL (protocol 7: connection_established, subscribe
// with auth, ping/pong, BULK_ events each followed by their _METADATA).
// Every event pushed is kept, so since and rollback replay the gap.
//
//	subs, err := fakepnw.NewSubscriptions(game)
//	defer subs.Close()
//	subs.DeclareWar(fakepnw.War{AttID: 1, DefID: 2, DefAllianceID: 7}) // in GraphQL and on the stream
//	subs.Drop(4200)                                                    // every socket closed with a code
type Subscriptions struct {
	// URL is PNW_SUBSCRIPTIONS_URL; SocketURL is PNW_SOCKET_URL.
	URL       string
	SocketURL string

	game     *Server
	srv      *http.Server
	secret   []byte
	upgrader websocket.Upgrader

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	channels   map[string]*subChannel
	sockets    map[string]*socket
	log        []pushed
	last       time.Time
	refuse     bool
	activity   int
	subscribes int
	auths      int
	opened     int
}

type subChannel struct {
	model, event string
	filters      map[string][]string
	since        *time.Time // replayed from when the first socket subscribes
	expired      bool
}

// matches reports whether the record passes the channel's filters: each
// filter's field must be one of its comma-joined values.
func (c *subChannel) matches(model, event string, rec map[string]any) bool {
	if c.model != model || c.event != event {
		return false
	}
	for field, values := range c.filters {
		if !slices.Contains(values, fmt.Sprint(rec[field])) {
			return false
		}
	}
	return true
}

type pushed struct {
	model, event string
	record       map[string]any
	at           time.Time
}

type socket struct {
	id       string
	ws       *websocket.Conn
	wmu      sync.Mutex
	channels map[string]bool
}

func (k *socket) send(event, channel string, data any) {
	b, _ := json.Marshal(data)
	s, _ := json.Marshal(string(b)) // Pusher sends data as a JSON string
	f := map[string]any{"event": event, "data": json.RawMessage(s)}
	if channel != "" {
		f["channel"] = channel
	}
	k.wmu.Lock()
	defer k.wmu.Unlock()
	_ = k.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = k.ws.WriteJSON(f)
}

// NewSubscriptions starts the fake on 127.0.0.1; Close stops it.
func NewSubscriptions(game *Server) (*Subscriptions, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakepnw: %w", err)
	}
	s := &Subscriptions{game: game, secret: []byte(rand.Text()), changed: make(chan struct{}),
		channels: map[string]*subChannel{}, sockets: map[string]*socket{}, activity: 120}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /subscriptions/v1/subscribe/{model}/{event}", s.subscribe)
	mux.HandleFunc("POST /subscriptions/v1/auth", s.auth)
	mux.HandleFunc("POST /subscriptions/v1/rollback", s.rollback)
	mux.HandleFunc("GET /app/{key}", s.serveSocket)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.URL = "http://" + l.Addr().String() + "/subscriptions/v1"
	s.SocketURL = "ws://" + l.Addr().String() + "/app/" + AppKey + "?protocol=7"
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Close stops the fake and closes every socket.
func (s *Subscriptions) Close() {
	s.Drop(0)
	s.srv.Close()
}

// DeclareWar adds an active war to the game (an ID and Date are given when
// zero) and pushes it on the stream as war create; it returns the war.
func (s *Subscriptions) DeclareWar(w War) War {
	s.game.mu.Lock()
	if w.ID == 0 {
		s.game.nextID++
		w.ID = s.game.nextID
	}
	s.game.mu.Unlock()
	if w.Date.IsZero() {
		w.Date = time.Now()
	}
	if w.WarType == "" {
		w.WarType = "ORDINARY"
	}
	if w.TurnsLeft == 0 && w.Ended.IsZero() {
		w.TurnsLeft = 60
	}
	if w.AttResistance == 0 && w.DefResistance == 0 {
		w.AttResistance, w.DefResistance = 100, 100
	}
	s.game.AddWar(w)
	s.Push("war", "create", streamWar(w))
	return w
}

// UpdateWar changes a war of the game (it ends when change sets Ended)
// and pushes it on the stream as war update; false when there is no such
// war.
func (s *Subscriptions) UpdateWar(id int, change func(*War)) (War, bool) {
	s.game.mu.Lock()
	i := slices.IndexFunc(s.game.wars, func(w War) bool { return w.ID == id })
	if i < 0 {
		s.game.mu.Unlock()
		return War{}, false
	}
	change(&s.game.wars[i])
	w := s.game.wars[i]
	s.game.mu.Unlock()
	s.Push("war", "update", streamWar(w))
	return w, true
}

// streamWar is a war as the stream sends it: ids as numbers (the GraphQL
// answer quotes them) and zone-aware dates with a fraction.
func streamWar(w War) map[string]any {
	m := w.record()
	for _, k := range []string{"id", "att_id", "def_id", "att_alliance_id", "def_alliance_id"} {
		m[k], _ = strconv.Atoi(fmt.Sprint(m[k]))
	}
	m["date"] = w.Date.UTC().Format(time.RFC3339Nano)
	if !w.Ended.IsZero() {
		m["end_date"] = w.Ended.UTC().Format(time.RFC3339Nano)
	}
	return m
}

// Deposit is Server.Deposit, pushed on the stream as bankrec create.
func (s *Subscriptions) Deposit(nationID int, amounts pnw.Amounts, note string) (Bankrec, error) {
	r, err := s.game.Deposit(nationID, amounts, note)
	if err == nil {
		m := r.record()
		for _, k := range []string{"id", "sender_id", "receiver_id", "banker_id"} { // numbers on the stream
			m[k], _ = strconv.Atoi(fmt.Sprint(m[k]))
		}
		s.Push("bankrec", "create", m)
	}
	return r, err
}

// Push sends records of a model and event to every socket subscribed on a
// channel they pass the filters of, and keeps them for replays.
func (s *Subscriptions) Push(model, event string, records ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range records {
		at := time.Now()
		if !at.After(s.last) {
			at = s.last.Add(time.Nanosecond)
		}
		s.last = at
		p := pushed{model: model, event: event, record: rec, at: at}
		s.log = append(s.log, p)
		for _, k := range s.sockets {
			for name := range k.channels {
				if c := s.channels[name]; c.matches(model, event, rec) {
					s.deliver(k, name, c, p)
				}
			}
		}
	}
	s.notify()
}

// deliver sends one event and its metadata: after is the channel's
// previous event, max this one.
func (s *Subscriptions) deliver(k *socket, name string, c *subChannel, p pushed) {
	var after time.Time
	for _, q := range s.log {
		if q.at.Before(p.at) && c.matches(q.model, q.event, q.record) {
			after = q.at
		}
	}
	event := "BULK_" + strings.ToUpper(p.model+"_"+p.event)
	k.send(event, name, []map[string]any{p.record})
	k.send(event+"_METADATA", name, map[string]any{"after": stampOf(after), "max": stampOf(p.at), "crc32": 0})
}

// replay sends the channel's events after since to one socket.
func (s *Subscriptions) replay(k *socket, name string, since time.Time) {
	c := s.channels[name]
	for _, p := range s.log {
		if p.at.After(since) && c.matches(p.model, p.event, p.record) {
			s.deliver(k, name, c, p)
		}
	}
}

func stampOf(t time.Time) map[string]int64 {
	if t.IsZero() {
		return map[string]int64{"millis": 0, "nanos": 0}
	}
	return map[string]int64{"millis": t.UnixMilli(), "nanos": int64(t.Nanosecond() % 1e6)}
}

func fromStamp(millis, nanos int64) time.Time {
	return time.UnixMilli(millis).Add(time.Duration(nanos))
}

// Drop closes every socket, with the close code when not 0 (a Pusher code
// such as 4001 or 4200), abruptly otherwise.
func (s *Subscriptions) Drop(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, k := range s.sockets {
		if code != 0 {
			k.wmu.Lock()
			_ = k.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "closed by the fake"), time.Now().Add(time.Second))
			k.wmu.Unlock()
		}
		k.ws.Close()
		delete(s.sockets, id)
	}
	s.notify()
}

// Refuse makes new sockets fail (503) while on: the stream is down.
func (s *Subscriptions) Refuse(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = on
}

// Expire makes every channel given so far expired: auth answers 403 and
// rollback 404, so a client must subscribe again.
func (s *Subscriptions) Expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.channels {
		c.expired = true
	}
}

// SetActivityTimeout sets the activity_timeout, in seconds, that sockets
// are told (default 120).
func (s *Subscriptions) SetActivityTimeout(seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.activity = seconds
}

// Counts says how many sockets were opened, channels subscribed and
// channels authorized so far.
func (s *Subscriptions) Counts() (sockets, subscribes, auths int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened, s.subscribes, s.auths
}

// Listeners returns how many sockets are open with n or more channels
// subscribed.
func (s *Subscriptions) Listeners(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	count := 0
	for _, k := range s.sockets {
		if len(k.channels) >= n {
			count++
		}
	}
	return count
}

// WaitListeners waits until exactly want sockets have n or more channels
// subscribed.
func (s *Subscriptions) WaitListeners(ctx context.Context, want, n int) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if s.Listeners(n) == want {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d sockets with %d channels (now %d): %w", want, n, s.Listeners(n), ctx.Err())
		}
	}
}

func (s *Subscriptions) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Subscriptions) subscribe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.game.mu.Lock()
	_, known := s.game.keys[q.Get("api_key")]
	s.game.mu.Unlock()
	if !known {
		writeStatus(w, http.StatusUnauthorized, map[string]any{"error": "couldn't find api key"})
		return
	}
	c := &subChannel{model: r.PathValue("model"), event: r.PathValue("event"), filters: map[string][]string{}}
	for field, values := range q {
		switch field {
		case "api_key", "metadata", "since", "nanos":
		default:
			c.filters[field] = strings.Split(values[0], ",")
		}
	}
	if since := q.Get("since"); since != "" {
		millis, err1 := strconv.ParseInt(since, 10, 64)
		nanos, err2 := strconv.ParseInt(q.Get("nanos"), 10, 64)
		if err1 != nil || err2 != nil {
			writeStatus(w, http.StatusBadRequest, map[string]any{"error": "bad since or nanos"})
			return
		}
		t := fromStamp(millis, nanos)
		c.since = &t
	}
	name := "private-" + strings.ToLower(rand.Text())
	s.mu.Lock()
	s.channels[name] = c
	s.subscribes++
	s.mu.Unlock()
	writeJSON(w, map[string]any{"channel": name})
}

func (s *Subscriptions) sign(socketID, channel string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(socketID + ":" + channel))
	return AppKey + ":" + hex.EncodeToString(m.Sum(nil))
}

func (s *Subscriptions) auth(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		writeStatus(w, http.StatusBadRequest, map[string]any{"error": "expected a form"})
		return
	}
	socketID, name := r.PostForm.Get("socket_id"), r.PostForm.Get("channel_name")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auths++
	c := s.channels[name]
	if c == nil || c.expired || s.sockets[socketID] == nil {
		writeStatus(w, http.StatusForbidden, map[string]any{"error": "unknown channel or socket"})
		return
	}
	writeJSON(w, map[string]any{"auth": s.sign(socketID, name)})
}

func (s *Subscriptions) rollback(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Channel string `json:"channel_name"`
		Time    int64  `json:"time"`
		Nanos   int64  `json:"nanos"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeStatus(w, http.StatusBadRequest, map[string]any{"error": "expected JSON"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[body.Channel]
	if c == nil || c.expired {
		writeStatus(w, http.StatusNotFound, map[string]any{"error": "channel not found"})
		return
	}
	for _, k := range s.sockets {
		if k.channels[body.Channel] {
			s.replay(k, body.Channel, fromStamp(body.Time, body.Nanos))
		}
	}
	writeJSON(w, map[string]any{"ok": true})
}

func (s *Subscriptions) serveSocket(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse, activity := s.refuse, s.activity
	s.mu.Unlock()
	if refuse || r.PathValue("key") != AppKey {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.opened++
	// Pusher's socket ids are two numbers joined by a dot.
	k := &socket{id: fmt.Sprintf("%d.%d", s.opened, time.Now().UnixNano()%1e7), ws: ws, channels: map[string]bool{}}
	s.sockets[k.id] = k
	s.notify()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.sockets[k.id] == k {
			delete(s.sockets, k.id)
			s.notify()
		}
		s.mu.Unlock()
		ws.Close()
	}()
	k.send("pusher:connection_established", "", map[string]any{"socket_id": k.id, "activity_timeout": activity})
	for {
		// A client silent past the activity timeout is gone (Pusher
		// would ping it first; a second more stands for that).
		_ = ws.SetReadDeadline(time.Now().Add(time.Duration(activity)*time.Second + time.Second))
		var f struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if err := ws.ReadJSON(&f); err != nil {
			return
		}
		var data struct {
			Channel string `json:"channel"`
			Auth    string `json:"auth"`
		}
		_ = json.Unmarshal(f.Data, &data)
		switch f.Event {
		case "pusher:ping":
			k.send("pusher:pong", "", map[string]any{})
		case "pusher:subscribe":
			s.mu.Lock()
			c := s.channels[data.Channel]
			if c == nil || !hmac.Equal([]byte(data.Auth), []byte(s.sign(k.id, data.Channel))) {
				s.mu.Unlock()
				k.send("pusher:error", "", map[string]any{"message": "Invalid signature", "code": 4009})
				continue
			}
			k.channels[data.Channel] = true
			k.send("pusher_internal:subscription_succeeded", data.Channel, map[string]any{})
			if c.since != nil {
				s.replay(k, data.Channel, *c.since)
				c.since = nil
			}
			s.notify()
			s.mu.Unlock()
		case "pusher:unsubscribe":
			s.mu.Lock()
			delete(k.channels, data.Channel)
			s.notify()
			s.mu.Unlock()
		}
	}
}

func writeStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
