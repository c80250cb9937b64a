package fakediscord

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// ClientSecret is the OAuth2 client secret the fake accepts, with AppID as
// the client id.
const ClientSecret = "test-client-secret"

// RoleConnection is a user's role connection, as last written.
type RoleConnection struct {
	PlatformName     string            `json:"platform_name"`
	PlatformUsername string            `json:"platform_username"`
	Metadata         map[string]string `json:"metadata"`
}

// oauth is the fake's OAuth2 side: the browser's authorize page, the token
// endpoint, /users/@me with a Bearer token and Linked Roles.
type oauth struct {
	mu          sync.Mutex
	user        *discordgo.User   // who "is signed in to Discord" in the browser
	codes       map[string]*grant // unused authorization codes
	tokens      map[string]*grant // access tokens
	refreshes   map[string]*grant // refresh tokens
	metadata    []*discordgo.ApplicationRoleConnectionMetadata
	connections map[string]*RoleConnection // by user id
}

// grant is what a code or token stands for.
type grant struct {
	user        *discordgo.User
	scopes      []string
	redirectURI string
	challenge   string
}

// SignIn makes u the Discord user who approves the next authorizations, as
// if they were signed in to Discord in the browser.
func (f *Fake) SignIn(u *discordgo.User) {
	f.oauth.mu.Lock()
	defer f.oauth.mu.Unlock()
	f.oauth.user = u
}

// RoleConnectionMetadata returns the records last registered.
func (f *Fake) RoleConnectionMetadata() []*discordgo.ApplicationRoleConnectionMetadata {
	f.oauth.mu.Lock()
	defer f.oauth.mu.Unlock()
	return slices.Clone(f.oauth.metadata)
}

// RoleConnection returns the user's role connection, nil when none was written.
func (f *Fake) RoleConnection(userID string) *RoleConnection {
	f.oauth.mu.Lock()
	defer f.oauth.mu.Unlock()
	if c := f.oauth.connections[userID]; c != nil {
		cp := *c
		return &cp
	}
	return nil
}

func (f *Fake) oauthRoutes(mux *http.ServeMux) {
	f.oauth.codes = map[string]*grant{}
	f.oauth.tokens = map[string]*grant{}
	f.oauth.refreshes = map[string]*grant{}
	f.oauth.connections = map[string]*RoleConnection{}
	mux.HandleFunc("GET /oauth2/authorize", f.authorize)
	mux.HandleFunc("POST /api/oauth2/token", f.token)
	mux.HandleFunc("GET /api/v10/users/@me", f.bearer("identify", f.oauthMe))
	mux.HandleFunc("PUT /api/v9/applications/{app}/role-connections/metadata", f.authorized(f.putMetadata))
	mux.HandleFunc("PUT /api/v10/users/@me/applications/{app}/role-connection", f.bearer("role_connections.write", f.putConnection))
}

// authorize approves at once for the signed-in user, as Discord does for an
// application the user already authorized, and sends the browser back to
// redirect_uri with a code and the state.
func (f *Fake) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != AppID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || redirect.Scheme == "" || q.Get("response_type") != "code" || q.Get("scope") == "":
		http.Error(w, "invalid authorize request", http.StatusBadRequest)
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	o := &f.oauth
	o.mu.Lock()
	u := o.user
	var code string
	if u != nil {
		code = o.newToken("code")
		o.codes[code] = &grant{user: u, scopes: strings.Fields(q.Get("scope")), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
	}
	o.mu.Unlock()
	if u == nil {
		http.Error(w, "nobody is signed in to the fake Discord (Fake.SignIn)", http.StatusUnauthorized)
		return
	}
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// newToken returns a fresh unguessable value.
func (o *oauth) newToken(kind string) string {
	return kind + "-" + rand.Text()
}

// token exchanges a code (once: a used code is refused) or a refresh token.
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != AppID || secret != ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	o := &f.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	var g *grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		g = o.codes[code]
		delete(o.codes, code)
		if g == nil || g.redirectURI != r.PostForm.Get("redirect_uri") || !verifies(g.challenge, r.PostForm.Get("code_verifier")) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		g = o.refreshes[rt]
		delete(o.refreshes, rt)
		if g == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	access, refresh := o.newToken("access"), o.newToken("refresh")
	o.tokens[access], o.refreshes[refresh] = g, g
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 604800,
		"refresh_token": refresh, "scope": strings.Join(g.scopes, " "),
	})
}

// verifies checks a PKCE verifier against its S256 challenge; no challenge
// needs no verifier.
func verifies(challenge, verifier string) bool {
	if challenge == "" {
		return verifier == ""
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

// bearer admits a request whose Bearer token was granted scope.
func (f *Fake) bearer(scope string, next func(http.ResponseWriter, *http.Request, *grant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.oauth.mu.Lock()
		g := f.oauth.tokens[token]
		f.oauth.mu.Unlock()
		switch {
		case !ok || g == nil:
			writeError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
		case !slices.Contains(g.scopes, scope):
			writeError(w, http.StatusForbidden, 0, "401: Unauthorized") // Discord answers a missing scope so
		default:
			next(w, r, g)
		}
	}
}

func (f *Fake) oauthMe(w http.ResponseWriter, _ *http.Request, g *grant) {
	writeJSON(w, http.StatusOK, g.user)
}

var metadataKey = regexp.MustCompile(`^[a-z0-9_]{1,50}$`)

func (f *Fake) putMetadata(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("app") != AppID {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	var records []*discordgo.ApplicationRoleConnectionMetadata
	if err := json.NewDecoder(r.Body).Decode(&records); err != nil || len(records) > 5 {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	for _, m := range records {
		if !metadataKey.MatchString(m.Key) || m.Name == "" || len(m.Name) > 100 || m.Description == "" || len(m.Description) > 200 || m.Type < 1 || m.Type > 8 {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
	}
	f.oauth.mu.Lock()
	f.oauth.metadata = records
	f.oauth.mu.Unlock()
	writeJSON(w, http.StatusOK, records)
}

func (f *Fake) putConnection(w http.ResponseWriter, r *http.Request, g *grant) {
	var c RoleConnection
	if r.PathValue("app") != AppID || json.NewDecoder(r.Body).Decode(&c) != nil ||
		len(c.PlatformName) > 50 || len(c.PlatformUsername) > 100 {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	f.oauth.mu.Lock()
	defer f.oauth.mu.Unlock()
	for k, v := range c.Metadata {
		if !slices.ContainsFunc(f.oauth.metadata, func(m *discordgo.ApplicationRoleConnectionMetadata) bool { return m.Key == k }) || len(v) > 100 {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
	}
	f.oauth.connections[g.user.ID] = &c
	writeJSON(w, http.StatusOK, c)
}
