// Package fakepnw is an in-process fake of the Politics and War GraphQL API,
// for tests of package pnw and of the bot, and for `pnwbot demo`.
//
// Like the real server it validates every query against the game's schema
// (pnw.Schema) and answers invalid ones with GraphQL errors; it requires a
// known api_key (HTTP 401 otherwise), counts each key's daily requests and
// sends X-RateLimit headers. Valid queries are executed over fixtures, so
// exactly the selected fields come back. Switches simulate the game's
// failures: Fail (401, 429, 500, GraphQL errors) and SetDelay (slowness).
//
//	fake, err := fakepnw.New()
//	defer fake.Close()
//	fake.AddKey("key", 100, "alliance_view_bank")
//	fake.AddNation(fakepnw.Nation{ID: 100, NationName: "Arrakis", AllianceID: 7})
//	client, _ := pnw.New(pnw.Options{URL: fake.URL, APIKey: "key"})
package fakepnw

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"pnwbot/pnw"
)

// DefaultMaxRequests is a key's daily allowance unless SetKeyLimit says
// otherwise.
const DefaultMaxRequests = 2000

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the GraphQL endpoint, for pnw.Options.URL.
	URL string

	srv      *http.Server
	schema   *ast.Schema
	requests atomic.Int64

	mu        sync.Mutex
	botKey    string
	keys      map[string]*apiKey
	nations   map[int]Nation
	alliances map[int]Alliance
	bankrecs  []Bankrec
	wars      []War
	trades    []Trade
	prices    []TradePrice
	ops       map[string]int
	failure   Failure
	failLeft  int // failures still to serve; -1: until Fail(Failure{})
	delay     time.Duration
	held      chan struct{} // while set, requests wait for it to close
	heldOps   []string      // the operations held; none: all
	arrived   chan struct{} // closed and replaced when a request arrives
	nextID    int
}

type apiKey struct {
	key      string
	nationID int
	perms    map[string]bool
	used     int
	max      int
}

// Failure describes how the fake fails requests.
type Failure struct {
	// Status is the HTTP status (401, 429, 500, 503...). Zero with a
	// Message means HTTP 200 with a GraphQL error, as the game reports a
	// bad key or missing permission.
	Status int
	// Message is the GraphQL error message in the body.
	Message string
	// Reset is when a 429 ends (default: a second from now).
	Reset time.Time
	// Path is the GraphQL error's path, with a Message: a field below a
	// mutation's (["bankWithdraw", "receiver"]) says the mutation ran and
	// a field of its answer failed.
	Path []any
	// Category is the GraphQL error's extensions.category, with a
	// Message: "graphql" or "validation" for errors raised before any
	// resolver runs.
	Category string
	// Times is how many requests fail; 0 means every one until the next
	// call to Fail.
	Times int
	// Op limits the failure to requests of this operation
	// ("assignAlliancePosition"); empty fails every request.
	Op string
}

// New starts a fake on 127.0.0.1; Close stops it.
func New() (*Server, error) {
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: pnw.Schema()})
	if err != nil {
		return nil, fmt.Errorf("fakepnw: schema: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakepnw: %w", err)
	}
	s := &Server{
		schema:    schema,
		keys:      map[string]*apiKey{},
		nations:   map[int]Nation{},
		alliances: map[int]Alliance{},
		ops:       map[string]int{},
		nextID:    1_000_000,
		arrived:   make(chan struct{}),
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	s.URL = "http://" + l.Addr().String() + "/graphql"
	go func() { _ = s.srv.Serve(l) }() // returns when Close closes l
	return s, nil
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// AddKey registers an API key owned by nationID with the given permissions,
// named as in ApiKeyPermissions (e.g. "alliance_view_bank"); it panics on
// an unknown name.
func (s *Server) AddKey(key string, nationID int, perms ...string) {
	def := s.schema.Types["ApiKeyPermissions"]
	set := map[string]bool{}
	for _, p := range perms {
		if def.Fields.ForName(p) == nil {
			panic("fakepnw: unknown permission " + p)
		}
		set[p] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = &apiKey{key: key, nationID: nationID, perms: set, max: DefaultMaxRequests}
}

// SetKeyLimit sets key's daily allowance and how many requests it has made
// today (key must have been added). A key that reaches its allowance gets
// 429s until midnight UTC.
func (s *Server) SetKeyLimit(key string, maxRequests, used int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[key]
	k.max, k.used = maxRequests, used
}

// SetBotKey sets the X-Bot-Key that mutations require.
func (s *Server) SetBotKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botKey = key
}

// AddNation adds or replaces a nation.
func (s *Server) AddNation(n Nation) {
	if n.AlliancePosition == "" {
		n.AlliancePosition = "NOALLIANCE"
		if n.AllianceID != 0 {
			n.AlliancePosition = "MEMBER"
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nations[n.ID] = n
}

// AddAlliance adds or replaces an alliance.
func (s *Server) AddAlliance(a Alliance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alliances[a.ID] = a
}

// Alliance returns the alliance as it is now (its bank after withdrawals).
func (s *Server) Alliance(id int) Alliance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alliances[id]
}

// RecordsKept is how far back the game serves bank and tax records.
const RecordsKept = 14 * 24 * time.Hour

// AddBankrec adds a bank record, or a tax record when it has a TaxID, and
// returns it: without an ID it gets the next one, without a Date it is
// dated now. Records older than RecordsKept are no longer served.
func (s *Server) AddBankrec(r Bankrec) Bankrec {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == 0 {
		s.nextID++
		r.ID = s.nextID
	}
	if r.Date.IsZero() {
		r.Date = time.Now()
	}
	s.bankrecs = append(s.bankrecs, r)
	return r
}

// Deposit is a nation depositing into its alliance's bank, as the game's
// bank page does: the alliance's holdings grow and a bank record with note
// is added (and returned).
func (s *Server) Deposit(nationID int, amounts pnw.Amounts, note string) (Bankrec, error) {
	s.mu.Lock()
	n, ok := s.nations[nationID]
	a, inAlliance := s.alliances[n.AllianceID]
	if !ok || !inAlliance {
		s.mu.Unlock()
		return Bankrec{}, fmt.Errorf("fakepnw: nation %d is not in an alliance", nationID)
	}
	for r, v := range amounts {
		if v < 0 {
			s.mu.Unlock()
			return Bankrec{}, fmt.Errorf("fakepnw: a deposit of %s is negative", pnw.Resource(r))
		}
		a.Bank[r] += v
	}
	s.alliances[a.ID] = a
	s.mu.Unlock()
	return s.AddBankrec(Bankrec{SenderID: nationID, SenderType: 1, ReceiverID: a.ID, ReceiverType: 2, BankerID: nationID,
		Note: note, Resources: amounts}), nil
}

// AddWar adds a war.
func (s *Server) AddWar(w War) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wars = append(s.wars, w)
}

// AddTrade adds a trade.
func (s *Server) AddTrade(t Trade) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trades = append(s.trades, t)
}

// SetTradePrices sets the market top_trade_info returns.
func (s *Server) SetTradePrices(prices ...TradePrice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prices = prices
}

// Fail makes requests fail as f describes; Fail(Failure{}) heals the fake.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure, s.failLeft = f, f.Times
	if f.Times == 0 {
		s.failLeft = -1
	}
	if f.Status == 0 && f.Message == "" {
		s.failLeft = 0
	}
}

// SetDelay makes every response wait d first.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Hold makes every request (with ops, only requests of these operations)
// wait, once it has arrived, until release is called: a test orders its
// callers on WaitRequests instead of sleeping.
func (s *Server) Hold(ops ...string) (release func()) {
	held := make(chan struct{})
	s.mu.Lock()
	s.held, s.heldOps = held, ops
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.held == held {
				s.held = nil
			}
			s.mu.Unlock()
			close(held)
		})
	}
}

// WaitRequests waits until n requests have arrived, counted as Requests
// counts them.
func (s *Server) WaitRequests(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		arrived := s.arrived
		s.mu.Unlock()
		if s.Requests() >= n {
			return nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Requests counts the HTTP requests received, whatever their outcome.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// RequestsFor counts the valid requests for one operation name.
func (s *Server) RequestsFor(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ops[op]
}

type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// ServeHTTP answers one GraphQL request like the game's endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests.Add(1)
	close(s.arrived)
	s.arrived = make(chan struct{})
	delay, held, heldOps := s.delay, s.held, s.heldOps
	s.mu.Unlock()
	// What arrived counts even when the client hung up after sending it
	// (a timed-out mutation still reached the game): the body is read
	// before any wait.
	raw, _ := io.ReadAll(r.Body)
	var req gqlRequest
	jsonErr := json.Unmarshal(raw, &req)
	// A client that hangs up meanwhile does not take back what it sent: the
	// request is served (and counted) as the game would.
	if held != nil && (len(heldOps) == 0 || slices.Contains(heldOps, req.OperationName)) {
		select {
		case <-held:
		case <-r.Context().Done():
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.failNow(w, req.OperationName) {
		return
	}

	key := r.URL.Query().Get("api_key")
	if key == "" {
		key = r.Header.Get("X-Api-Key")
	}
	s.mu.Lock()
	k := s.keys[key]
	if k == nil {
		s.mu.Unlock()
		writeErrors(w, http.StatusUnauthorized, "Unauthenticated.")
		return
	}
	reset := nextMidnight()
	if k.used >= k.max {
		s.mu.Unlock()
		rateHeaders(w, k.max, 0, reset)
		writeErrors(w, http.StatusTooManyRequests, "Too Many Attempts.")
		return
	}
	k.used++
	rateHeaders(w, k.max, k.max-k.used, reset)
	s.mu.Unlock()

	if jsonErr != nil {
		writeErrors(w, http.StatusBadRequest, "Syntax Error: the body is not JSON.")
		return
	}
	doc, errs := gqlparser.LoadQueryWithRules(s.schema, req.Query, nil)
	if len(errs) > 0 {
		writeJSON(w, map[string]any{"errors": graphqlErrors(errs)})
		return
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil && req.OperationName == "" && len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	if op == nil {
		writeJSON(w, map[string]any{"errors": []map[string]any{{"message": "Operation not found.", "extensions": map[string]any{"category": "graphql"}}}})
		return
	}
	vars, err := validator.VariableValues(s.schema, op, req.Variables)
	if err != nil {
		writeJSON(w, map[string]any{"errors": []map[string]any{{"message": err.Error(), "extensions": map[string]any{"category": "graphql"}}}})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[op.Name]++
	if op.Operation == ast.Mutation {
		switch {
		case r.Header.Get("X-Api-Key") != key:
			writeJSON(w, map[string]any{"errors": []map[string]any{{"message": "Mutations require the X-Api-Key header."}}})
			return
		case s.botKey == "" || r.Header.Get("X-Bot-Key") != s.botKey:
			writeJSON(w, map[string]any{"errors": []map[string]any{{"message": "The bot key provided is invalid or not whitelisted."}}})
			return
		}
	}
	x := &executor{s: s, vars: vars, viewer: k}
	root := "Query"
	if op.Operation == ast.Mutation {
		root = "Mutation"
	}
	data := x.selection(op.SelectionSet, root, map[string]any{}, nil)
	body := map[string]any{"data": data}
	if len(x.errs) > 0 {
		body["errors"] = x.errs
	}
	writeJSON(w, body)
}

// failNow serves the configured failure, if any, to a request of op.
func (s *Server) failNow(w http.ResponseWriter, op string) bool {
	s.mu.Lock()
	f := s.failure
	if s.failLeft == 0 || f.Op != "" && f.Op != op {
		s.mu.Unlock()
		return false
	}
	if s.failLeft > 0 {
		s.failLeft--
	}
	s.mu.Unlock()

	switch f.Status {
	case 0:
		e := map[string]any{"message": f.Message}
		if f.Path != nil {
			e["path"] = f.Path
		}
		if f.Category != "" {
			e["extensions"] = map[string]any{"category": f.Category}
		}
		writeJSON(w, map[string]any{"errors": []map[string]any{e}})
	case http.StatusTooManyRequests:
		reset := f.Reset
		if reset.IsZero() {
			reset = time.Now().Add(time.Second)
		}
		rateHeaders(w, DefaultMaxRequests, 0, reset)
		writeErrors(w, f.Status, orDefault(f.Message, "Too Many Attempts."))
	case http.StatusUnauthorized:
		writeErrors(w, f.Status, orDefault(f.Message, "Unauthenticated."))
	default:
		// The game's errors are often HTML pages from its proxy.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<html><body>%d %s %s</body></html>", f.Status, http.StatusText(f.Status), f.Message)
	}
	return true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func rateHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(max(time.Until(reset).Seconds(), 0), 'f', 3, 64))
	h.Set("X-RateLimit-Interval", "86400")
}

func nextMidnight() time.Time {
	return time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
}

func writeErrors(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": message}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// graphqlErrors renders validation errors the way the game does.
func graphqlErrors(errs gqlerror.List) []map[string]any {
	out := make([]map[string]any, 0, len(errs))
	for _, e := range errs {
		m := map[string]any{"message": e.Message, "extensions": map[string]any{"category": "graphql"}}
		if len(e.Locations) > 0 {
			m["locations"] = e.Locations
		}
		out = append(out, m)
	}
	return out
}
