// Package fakediscord is a fake Discord on 127.0.0.1, for tests and for
// `pnwbot demo`: the REST endpoints pnwbot uses and a gateway websocket.
// Point bot.Options.APIBaseURL at Fake.URL and use Token as the token. It behaves like Discord where tests
// could be fooled: it checks the token, refuses a second callback to one
// interaction and edits or follow-ups before the first, refuses (400) an
// embed field without a name or value, refuses command definitions Discord
// would refuse, and answers 429 with a JSON body.
package fakediscord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Identities the fake answers with.
const (
	Token     = "test-token"
	AppID     = "100000000000000001"
	BotUserID = "100000000000000002"
)

// Fake is a fake Discord. Its methods are safe for concurrent use.
type Fake struct {
	// URL is the base URL, to use as bot.Options.APIBaseURL.
	URL string
	srv *http.Server

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every change
	commands    map[string][]*discordgo.ApplicationCommand
	identify    *Identify
	callbacks   map[string]*Reply   // by interaction ID
	answered    map[string]bool     // interaction tokens with a callback
	edits       map[string][]*Reply // by interaction token
	followups   map[string][]*Reply // by interaction token
	deleted     map[string]bool     // by interaction token
	dmChannels  map[string]string   // DM channel ID by user ID
	dms         map[string][]*Reply // direct messages by user ID
	noDMs       map[string]bool     // users who accept no DMs from the bot
	conn        *gatewayConn
	connections int
	rateLimited int
	nextID      int64
	seq         int64                 // of the last dispatch
	dispatched  []payload             // the last dispatches of this session, replayed on RESUME
	guilds      *guilds               // its own lock; see guilds.go
	channels    map[string]*Channel   // guild channels and threads; see channels.go
	threadOrder []string              // thread ids as started
	messages    map[string][]*Message // the bot's messages by channel
	replicas    replicas              // its own lock; see replicas.go

	oauth oauth // its own lock; see oauth.go
}

// Reply is what the bot sent: an interaction callback, an edit of the
// original response, or a follow-up.
type Reply struct {
	// Type is a callback's; 0 for edits and follow-ups.
	Type            discordgo.InteractionResponseType
	Content         string
	Embeds          []*discordgo.MessageEmbed
	Components      []discordgo.MessageComponent
	Flags           discordgo.MessageFlags
	AllowedMentions *discordgo.MessageAllowedMentions
	// CustomID and Title are a modal's.
	CustomID string
	Title    string
	Choices  []*discordgo.ApplicationCommandOptionChoice
	// Files are the attachments by file name, as sent (multipart).
	Files map[string][]byte
}

// Ephemeral reports whether the reply is private.
func (r *Reply) Ephemeral() bool { return r.Flags&discordgo.MessageFlagsEphemeral != 0 }

// New starts a fake Discord on 127.0.0.1; Close stops it.
func New() (*Fake, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakediscord: %w", err)
	}
	f := &Fake{
		changed:    make(chan struct{}),
		commands:   map[string][]*discordgo.ApplicationCommand{},
		callbacks:  map[string]*Reply{},
		answered:   map[string]bool{},
		edits:      map[string][]*Reply{},
		followups:  map[string][]*Reply{},
		deleted:    map[string]bool{},
		dmChannels: map[string]string{},
		dms:        map[string][]*Reply{},
		noDMs:      map[string]bool{},
		nextID:     500000000000000000,
		guilds:     newGuilds(),
		channels:   map[string]*Channel{},
		messages:   map[string][]*Message{},
	}
	mux := http.NewServeMux()
	f.guilds.routes(mux, f.authorized)
	f.channelRoutes(mux)
	mux.HandleFunc("GET /api/v9/gateway", f.gateway)
	mux.HandleFunc("GET /api/v9/gateway/bot", f.authorized(f.gateway))
	mux.HandleFunc("GET /api/v9/users/@me", f.authorized(f.me))
	mux.HandleFunc("GET /api/v9/oauth2/applications/@me", f.authorized(f.application))
	mux.HandleFunc("PUT /api/v9/applications/{app}/commands", f.authorized(f.overwriteCommands))
	mux.HandleFunc("PUT /api/v9/applications/{app}/guilds/{guild}/commands", f.authorized(f.overwriteCommands))
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", f.callback)
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/{message}", f.edit)
	mux.HandleFunc("DELETE /api/v9/webhooks/{app}/{token}/messages/{message}", f.deleteMessage)
	mux.HandleFunc("POST /api/v9/webhooks/{app}/{token}", f.followup)
	mux.HandleFunc("POST /api/v9/users/@me/channels", f.authorized(f.openDM))
	mux.HandleFunc("POST /api/v9/channels/{channel}/messages", f.authorized(f.sendMessage))
	mux.HandleFunc("GET /gateway/", f.serveGateway)
	f.oauthRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	})
	f.srv = &http.Server{Handler: f.limit(mux), ReadHeaderTimeout: 5 * time.Second}
	f.URL = "http://" + l.Addr().String()
	go func() { _ = f.srv.Serve(l) }() // returns when Close closes l
	return f, nil
}

// Close stops the fake.
func (f *Fake) Close() {
	f.mu.Lock()
	if f.conn != nil {
		f.conn.ws.Close()
	}
	f.mu.Unlock()
	f.srv.Close()
}

// Commands returns the commands last registered in guildID ("" for global).
func (f *Fake) Commands(guildID string) []*discordgo.ApplicationCommand {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commands[guildID]
}

// Identify is what the fake keeps of an IDENTIFY payload.
type Identify struct {
	Token   string           `json:"token"`
	Intents discordgo.Intent `json:"intents"`
	Shard   *[2]int          `json:"shard"`
}

// Identify returns the last IDENTIFY payload received, nil before any.
func (f *Fake) Identify() *Identify {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.identify
}

// RateLimit makes the next n REST requests fail with 429.
func (f *Fake) RateLimit(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rateLimited = n
}

// WaitResponse waits for the callback to the interaction.
func (f *Fake) WaitResponse(ctx context.Context, interactionID string) (*Reply, error) {
	var r *Reply
	err := f.wait(ctx, func() bool { r = f.callbacks[interactionID]; return r != nil })
	return r, err
}

// WaitEdit waits for the first edit of the original response of the
// interaction with this token.
func (f *Fake) WaitEdit(ctx context.Context, token string) (*Reply, error) {
	var r *Reply
	err := f.wait(ctx, func() bool {
		if len(f.edits[token]) > 0 {
			r = f.edits[token][0]
		}
		return r != nil
	})
	return r, err
}

// WaitFollowup waits for the first follow-up of the interaction with this
// token.
func (f *Fake) WaitFollowup(ctx context.Context, token string) (*Reply, error) {
	var r *Reply
	err := f.wait(ctx, func() bool {
		if len(f.followups[token]) > 0 {
			r = f.followups[token][0]
		}
		return r != nil
	})
	return r, err
}

// WaitDelivery waits for what follows a deferred response to the
// interaction with this token: the first edit of the original response, or
// the first follow-up (followup true).
func (f *Fake) WaitDelivery(ctx context.Context, token string) (r *Reply, followup bool, err error) {
	err = f.wait(ctx, func() bool {
		switch {
		case len(f.edits[token]) > 0:
			r = f.edits[token][0]
		case len(f.followups[token]) > 0:
			r, followup = f.followups[token][0], true
		}
		return r != nil
	})
	return r, followup, err
}

// Deleted reports whether the original response of the interaction with this
// token was deleted.
func (f *Fake) Deleted(token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deleted[token]
}

// wait calls done under the lock until it returns true or ctx ends.
func (f *Fake) wait(ctx context.Context, done func() bool) error {
	for {
		f.mu.Lock()
		ok, changed := done(), f.changed
		f.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notify wakes the waiters; f.mu must be held.
func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// id returns a new snowflake-like ID; f.mu must be held.
func (f *Fake) id() string {
	f.nextID++
	return strconv.FormatInt(f.nextID, 10)
}

func (f *Fake) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && f.replicas.badGateway() {
			writeError(w, http.StatusBadGateway, 0, "502: Bad Gateway")
			return
		}
		f.mu.Lock()
		limited := f.rateLimited > 0 && strings.HasPrefix(r.URL.Path, "/api/")
		if limited {
			f.rateLimited--
		}
		f.mu.Unlock()
		if !limited {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("X-RateLimit-Limit", "1")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset-After", "0.010")
		w.Header().Set("X-RateLimit-Bucket", "fake")
		w.Header().Set("X-RateLimit-Scope", "user")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"message": "You are being rate limited.", "retry_after": 0.01, "global": false,
		})
	})
}

func (f *Fake) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+Token {
			writeError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
			return
		}
		next(w, r)
	}
}

func (f *Fake) gateway(w http.ResponseWriter, r *http.Request) {
	url := "ws" + strings.TrimPrefix(f.URL, "http") + "/gateway"
	writeJSON(w, http.StatusOK, map[string]any{
		"url": url, "shards": f.Shards(),
		"session_start_limit": map[string]int{"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
	})
}

func (f *Fake) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, botUser())
}

func botUser() *discordgo.User {
	return &discordgo.User{ID: BotUserID, Username: "pnwbot", Bot: true}
}

func (f *Fake) overwriteCommands(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("app") != AppID {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	var cmds []*discordgo.ApplicationCommand
	if err := json.NewDecoder(r.Body).Decode(&cmds); err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	if err := validateCommands(cmds); err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: "+err.Error())
		return
	}
	f.mu.Lock()
	for _, c := range cmds {
		c.ID, c.ApplicationID, c.GuildID, c.Version = f.id(), AppID, r.PathValue("guild"), "1"
	}
	f.commands[r.PathValue("guild")] = cmds
	f.replicas.registered()
	f.notify()
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, cmds)
}

func (f *Fake) callback(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	reply, err := decodeCallback(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: "+err.Error())
		return
	}
	if !f.answer(r.PathValue("id"), r.PathValue("token"), reply) {
		writeError(w, http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// answer records the first response to an interaction; it reports false when
// there already was one.
func (f *Fake) answer(id, token string, reply *Reply) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.callbacks[id] != nil {
		return false
	}
	f.callbacks[id] = reply
	f.answered[token] = true
	f.notify()
	return true
}

// decodeCallback decodes an interaction response.
func decodeCallback(raw []byte) (*Reply, error) {
	var body struct {
		Type discordgo.InteractionResponseType `json:"type"`
		Data json.RawMessage                   `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, err
	}
	reply := &Reply{}
	if len(body.Data) > 0 && string(body.Data) != "null" {
		var err error
		if reply, err = decodeReply(body.Data); err != nil {
			return nil, err
		}
	}
	reply.Type = body.Type
	return reply, nil
}

// ServeInteraction plays Discord's part for an Interactions Endpoint URL: it
// serves r, a signed interaction, with h and takes a 200 answer as the
// interaction's callback once it has been written, which takes latency.
func (f *Fake) ServeInteraction(h http.Handler, r *http.Request, latency time.Duration) *httptest.ResponseRecorder {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var i struct{ ID, Token string }
	_ = json.Unmarshal(raw, &i) // a bad body gets no callback
	w := &endpointWriter{ResponseRecorder: httptest.NewRecorder(), f: f, id: i.ID, token: i.Token, latency: latency}
	h.ServeHTTP(w, r)
	return w.ResponseRecorder
}

// endpointWriter takes the interactions endpoint's answer to Discord.
type endpointWriter struct {
	*httptest.ResponseRecorder
	f         *Fake
	id, token string
	latency   time.Duration
}

func (w *endpointWriter) Write(p []byte) (int, error) {
	time.Sleep(w.latency)
	n, err := w.ResponseRecorder.Write(p)
	if w.Code == http.StatusOK {
		if reply, err := decodeCallback(w.Body.Bytes()); err == nil {
			w.f.answer(w.id, w.token, reply)
		}
	}
	return n, err
}

func (f *Fake) edit(w http.ResponseWriter, r *http.Request) {
	f.record(w, r, f.edits, r.PathValue("message"))
}

func (f *Fake) followup(w http.ResponseWriter, r *http.Request) {
	f.record(w, r, f.followups, "")
}

// readReply decodes a message body, answering Discord's error when it is
// malformed.
func readReply(w http.ResponseWriter, r *http.Request) (*Reply, bool) {
	raw, files, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return nil, false
	}
	reply, err := decodeReply(raw)
	if err == nil {
		reply.Files = files
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: "+err.Error())
		return nil, false
	}
	return reply, true
}

// readBody returns a message's JSON, and its attachments when it comes as
// multipart/form-data (payload_json and files[n]).
func readBody(r *http.Request) ([]byte, map[string][]byte, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		raw, err := io.ReadAll(r.Body)
		return raw, nil, err
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	for _, headers := range r.MultipartForm.File {
		for _, h := range headers {
			f, err := h.Open()
			if err != nil {
				return nil, nil, err
			}
			b, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			files[h.Filename] = b
		}
	}
	payload := r.MultipartForm.Value["payload_json"]
	if len(payload) == 0 {
		return nil, nil, fmt.Errorf("no payload_json")
	}
	return []byte(payload[0]), files, nil
}

// record stores an edit or a follow-up and answers with the message.
func (f *Fake) record(w http.ResponseWriter, r *http.Request, into map[string][]*Reply, messageID string) {
	if !f.isAnswered(r.PathValue("token")) {
		writeError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	reply, ok := readReply(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	token := r.PathValue("token")
	into[token] = append(into[token], reply)
	if messageID == "" || messageID == "@original" {
		messageID = f.id()
	}
	f.notify()
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, &discordgo.Message{
		ID: messageID, Content: reply.Content, Embeds: reply.Embeds, Flags: reply.Flags,
		Author: botUser(), WebhookID: r.PathValue("app"),
	})
}

func (f *Fake) deleteMessage(w http.ResponseWriter, r *http.Request) {
	if !f.isAnswered(r.PathValue("token")) {
		writeError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	f.mu.Lock()
	f.deleted[r.PathValue("token")] = true
	f.notify()
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// openDM opens (or returns) the DM channel with a user.
func (f *Fake) openDM(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.RecipientID == "" {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	f.mu.Lock()
	id, ok := f.dmChannels[body.RecipientID]
	if !ok {
		id = f.id()
		f.dmChannels[body.RecipientID] = id
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, &discordgo.Channel{ID: id, Type: discordgo.ChannelTypeDM,
		Recipients: []*discordgo.User{{ID: body.RecipientID}}})
}

// sendMessage records a message in a DM channel, or in a guild channel
// or thread added with AddChannel.
func (f *Fake) sendMessage(w http.ResponseWriter, r *http.Request) {
	reply, ok := readReply(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	user := ""
	for u, ch := range f.dmChannels {
		if ch == r.PathValue("channel") {
			user = u
		}
	}
	switch {
	case user == "" && f.postInChannel(w, r.PathValue("channel"), reply):
		return
	case user == "":
		writeError(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	case f.noDMs[user]:
		writeError(w, http.StatusForbidden, 50007, "Cannot send messages to this user")
		return
	}
	f.dms[user] = append(f.dms[user], reply)
	f.notify()
	writeJSON(w, http.StatusOK, &discordgo.Message{ID: f.id(), ChannelID: r.PathValue("channel"), Content: reply.Content,
		Embeds: reply.Embeds, Author: botUser()})
}

// RefuseDMs makes the user accept no direct messages from the bot, as
// Discord's privacy settings allow.
func (f *Fake) RefuseDMs(userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noDMs[userID] = true
}

// DMs returns the direct messages the bot sent the user so far.
func (f *Fake) DMs(userID string) []*Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Reply(nil), f.dms[userID]...)
}

// WaitDM waits for the n-th (from 1) direct message to the user.
func (f *Fake) WaitDM(ctx context.Context, userID string, n int) (*Reply, error) {
	var r *Reply
	err := f.wait(ctx, func() bool {
		if len(f.dms[userID]) >= n {
			r = f.dms[userID][n-1]
		}
		return r != nil
	})
	return r, err
}

// Changed returns a channel closed at the fake's next change (a reply, a
// message, a connection...): take it, read what you follow, then wait on it.
func (f *Fake) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// isAnswered reports whether the interaction with this token has had its
// callback: Discord knows no webhook for it before.
func (f *Fake) isAnswered(token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answered[token]
}

func decodeReply(raw []byte) (*Reply, error) {
	var v struct {
		Content         string                                      `json:"content"`
		Embeds          []*discordgo.MessageEmbed                   `json:"embeds"`
		Components      []json.RawMessage                           `json:"components"`
		Flags           discordgo.MessageFlags                      `json:"flags"`
		AllowedMentions *discordgo.MessageAllowedMentions           `json:"allowed_mentions"`
		CustomID        string                                      `json:"custom_id"`
		Title           string                                      `json:"title"`
		Choices         []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	for i, e := range v.Embeds {
		for j, f := range e.Fields {
			if f.Name == "" || f.Value == "" {
				return nil, fmt.Errorf("embeds.%d.fields.%d: a field needs a name and a value", i, j)
			}
		}
	}
	r := &Reply{
		Content: v.Content, Embeds: v.Embeds, Flags: v.Flags, AllowedMentions: v.AllowedMentions,
		CustomID: v.CustomID, Title: v.Title, Choices: v.Choices,
	}
	for _, c := range v.Components {
		mc, err := discordgo.MessageComponentFromJSON(c)
		if err != nil {
			return nil, fmt.Errorf("component: %w", err)
		}
		r.Components = append(r.Components, mc)
	}
	return r, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers like Discord: a JSON body with a code and a message.
func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{"code": code, "message": message})
}

// gatewayConn is one gateway websocket.
type gatewayConn struct {
	ws *websocket.Conn
	mu sync.Mutex // one writer at a time
}

func (c *gatewayConn) send(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteJSON(v)
}

type payload struct {
	Op   int             `json:"op"`
	Data json.RawMessage `json:"d,omitempty"`
	Seq  int64           `json:"s,omitempty"`
	Type string          `json:"t,omitempty"`
}

// serveGateway speaks enough of the gateway: HELLO, IDENTIFY or RESUME,
// READY or RESUMED, heartbeats and their ACKs, dispatches from the test.
func (f *Fake) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gatewayConn{ws: ws}
	defer ws.Close()
	if c.send(map[string]any{"op": 10, "d": map[string]int{"heartbeat_interval": 45000}}) != nil {
		return
	}
	var hello payload
	if err := ws.ReadJSON(&hello); err != nil {
		return
	}
	switch hello.Op {
	case 2:
		// Not discordgo.Identify: it cannot decode its own presence.
		var id Identify
		if err := json.Unmarshal(hello.Data, &id); err != nil || id.Token != "Bot "+Token {
			_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
			return
		}
		f.mu.Lock()
		f.identify = &id
		f.seq, f.dispatched = 1, nil
		f.mu.Unlock()
		ready, _ := json.Marshal(map[string]any{
			"v": 10, "session_id": "fake-session", "user": botUser(),
			"application": map[string]any{"id": AppID, "flags": 0}, "guilds": []any{},
		})
		err = c.send(payload{Op: 0, Type: "READY", Seq: 1, Data: ready})
	case 6:
		// As Discord does: the dispatches the client missed, then RESUMED.
		var resume struct {
			Seq int64 `json:"seq"`
		}
		_ = json.Unmarshal(hello.Data, &resume)
		f.mu.Lock()
		var missed []payload
		for _, p := range f.dispatched {
			if p.Seq > resume.Seq {
				missed = append(missed, p)
			}
		}
		f.seq++
		seq := f.seq
		f.mu.Unlock()
		for _, p := range missed {
			if err = c.send(p); err != nil {
				return
			}
		}
		err = c.send(payload{Op: 0, Type: "RESUMED", Seq: seq, Data: json.RawMessage(`{}`)})
	default:
		_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4003, "Not authenticated."))
		return
	}
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conn = c
	f.connections++
	f.notify()
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		if f.conn == c {
			f.conn = nil
		}
		f.mu.Unlock()
	}()
	for {
		var p payload
		if err := ws.ReadJSON(&p); err != nil {
			return
		}
		if p.Op == 1 {
			if c.send(payload{Op: 11}) != nil {
				return
			}
		}
	}
}

// WaitConnections waits until n gateway sessions have been established,
// counting resumed ones.
func (f *Fake) WaitConnections(ctx context.Context, n int) error {
	return f.wait(ctx, func() bool { return f.connections >= n })
}

// Disconnect drops the gateway connection without a close frame, as a
// network failure would.
func (f *Fake) Disconnect() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.ws.Close()
		f.conn = nil
	}
}

// SendInteraction dispatches i as INTERACTION_CREATE on the gateway; its ID
// and token must be set (the builders in this package set them).
func (f *Fake) SendInteraction(i *discordgo.Interaction) error {
	raw, err := MarshalInteraction(i)
	if err != nil {
		return err
	}
	return f.SendInteractionJSON(raw)
}

// connectWait bounds how long SendInteraction waits for a gateway session.
const connectWait = 10 * time.Second

// maxReplay bounds the dispatches kept for a RESUME.
const maxReplay = 100

// SendInteractionJSON dispatches raw interaction JSON, as recorded from
// Discord, as INTERACTION_CREATE. A bot's Start may return before the fake
// holds its session, so it waits up to connectWait for one.
func (f *Fake) SendInteractionJSON(raw []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectWait)
	defer cancel()
	var c *gatewayConn
	var p payload
	err := f.wait(ctx, func() bool {
		if c = f.conn; c != nil {
			f.seq++
			p = payload{Op: 0, Type: "INTERACTION_CREATE", Seq: f.seq, Data: raw}
			// Kept for a RESUME: a connection that drops may lose it.
			f.dispatched = append(f.dispatched, p)[max(len(f.dispatched)+1-maxReplay, 0):]
		}
		return c != nil
	})
	if err != nil {
		return fmt.Errorf("fakediscord: no gateway connection")
	}
	return c.send(p)
}
