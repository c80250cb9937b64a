package site_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/roles"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
	"pnwbot/web/site"
)

const (
	botKey   = "botkey00000000000000"
	rose     = 9
	tessNat  = 4242
	userTess = "300000000000000001"
	userBob  = "300000000000000002"
	agent    = "pnwbot-test/1.0"
)

var (
	tess = &discordgo.User{ID: userTess, Username: "tess"}
	bob  = &discordgo.User{ID: userBob, Username: "bob"}
)

type bundle struct {
	site    *site.Site
	linked  *roles.Linked
	url     string
	discord *fakediscord.Fake
	game    *fakepnw.Server
	st      *store.Store
	rdb     *redis.Client
	prefix  string
	macKey  []byte

	mu  sync.Mutex
	now time.Time
}

func (b *bundle) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

// advance moves the site's clock.
func (b *bundle) advance(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
}

// setup starts the site on 127.0.0.1 against a fake Discord, the fake game,
// a fresh database and its own Redis key space. The game is not cached: a
// test sees it as it is.
func setup(t testing.TB) *bundle { return setupWith(t, false) }

// setupWith caches the game's answers in Redis when cached is set, as
// pnwbot run does.
func setupWith(t testing.TB, cached bool, opts ...func(*site.Options, *bundle)) *bundle {
	t.Helper()
	b := &bundle{st: storetest.NewDB(t), now: time.Now()}
	var prefix string
	b.rdb, prefix = storetest.NewRedis(t)
	b.prefix = prefix
	var err error
	b.discord, err = fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(b.discord.Close)
	b.game, err = fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(b.game.Close)
	b.game.AddKey(botKey, 1)
	b.game.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Score: 123456.78, Rank: 3, Color: "purple",
		Flag: "https://politicsandwar.com/uploads/rose.png"})
	b.game.AddNation(fakepnw.Nation{ID: 1, NationName: "Bot Nation", LeaderName: "Bot"})
	b.game.AddNation(fakepnw.Nation{ID: tessNat, NationName: "Testonia", LeaderName: "Tess", AllianceID: rose, AlliancePosition: "LEADER",
		Score: 2500.5, NumCities: 21, Color: "purple", DiscordID: userTess})
	b.game.AddNation(fakepnw.Nation{ID: 4243, NationName: "Bobistan", LeaderName: "Bob", AllianceID: rose, AlliancePosition: "MEMBER",
		Score: 900, NumCities: 9, Color: "purple"})
	var cache pnw.Cache
	if cached {
		cache = kv.NewRedisCache(b.rdb, prefix+"cache:")
	}
	game, err := pnw.New(pnw.Options{URL: b.game.URL, APIKey: botKey, Cache: cache})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	b.macKey = secrets.MACKey(master, "session cache")
	ring, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)

	srv := httptest.NewUnstartedServer(nil)
	b.url = "http://" + srv.Listener.Addr().String()
	oauth, err := site.NewOAuth(site.OAuthOptions{Store: b.st, Keys: ring,
		DiscordURL: b.discord.URL, ClientID: fakediscord.AppID, ClientSecret: fakediscord.ClientSecret, PublicURL: b.url})
	require.NoError(t, err)
	b.linked = roles.NewLinked(roles.LinkedOptions{Store: b.st, Game: game, Writer: oauth})
	gameKeys := keys.New(keys.Options{Store: b.st, Game: game, Ring: ring, Now: b.clock})
	o := site.Options{
		Store: b.st, Sessions: kv.NewSessionCache(b.rdb, prefix, b.macKey), Game: game,
		Keys: gameKeys, OAuth: oauth, Linked: b.linked, PublicURL: b.url, Now: b.clock,
		// No manager has linked a key that reads a bank here; the browser
		// test links one.
		Bank: bank.New(bank.Options{Store: b.st, Game: game, Keys: gameKeys, Now: b.clock}),
	}
	for _, f := range opts {
		f(&o, b)
	}
	b.site, err = site.New(o)
	require.NoError(t, err)
	srv.Config.Handler = b.site.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return b
}

// browser is a cookie jar that follows redirects, as a browser does.
func (b *bundle) browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: userAgentTransport{}}
}

// userAgentTransport names the test's browser in every request.
type userAgentTransport struct{}

func (userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", agent)
	return http.DefaultTransport.RoundTrip(r)
}

// noFollow is the same browser stopping at each redirect.
func noFollow(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

type answer struct {
	status int
	url    string // after redirects
	body   string
	header http.Header
}

func do(t testing.TB, c *http.Client, method, rawURL string, form url.Values) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Request.URL.String(), string(b), resp.Header}
}

// signIn signs u in with the browser, through the fake Discord, and lands
// on /me.
func (b *bundle) signIn(t testing.TB, c *http.Client, u *discordgo.User) answer {
	t.Helper()
	b.discord.SignIn(u)
	a := do(t, c, http.MethodGet, b.url+"/login", nil)
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Equal(t, b.url+"/me", a.url)
	return a
}

// callbackURL runs /login and the fake's authorize step and returns the
// callback URL Discord sent the browser to, not yet opened.
func (b *bundle) callbackURL(t testing.TB, c *http.Client, u *discordgo.User) *url.URL {
	t.Helper()
	b.discord.SignIn(u)
	c = noFollow(c)
	login := get(t, c, b.url+"/login")
	require.Equal(t, http.StatusFound, login.StatusCode)
	authorize, err := url.Parse(login.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "identify", authorize.Query().Get("scope"))
	require.Equal(t, "S256", authorize.Query().Get("code_challenge_method"), "PKCE")
	back := get(t, c, authorize.String())
	require.Equal(t, http.StatusFound, back.StatusCode)
	cb, err := url.Parse(back.Header.Get("Location"))
	require.NoError(t, err)
	return cb
}

func get(t testing.TB, c *http.Client, rawURL string) *http.Response {
	t.Helper()
	resp, err := c.Get(rawURL)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func (b *bundle) sessions(t testing.TB) int {
	t.Helper()
	var n int
	require.NoError(t, b.st.Pool.QueryRow(t.Context(), "SELECT count(*) FROM user_sessions").Scan(&n))
	return n
}

// audits returns the audit rows of an action, oldest first.
func (b *bundle) audits(t testing.TB, action string) []store.AuditLog {
	t.Helper()
	rows, err := b.st.AuditLogList(t.Context(), store.AuditLogListParams{Action: &action, RowLimit: 100})
	require.NoError(t, err)
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)

	// The callback sets the session cookie: HttpOnly, SameSite=Lax, and only
	// its hash is stored.
	cb := b.callbackURL(t, c, tess)
	resp := get(t, noFollow(c), cb.String())
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/me", resp.Header.Get("Location"))
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "pnwbot_session" {
			cookie = ck
		}
	}
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	require.False(t, cookie.Secure, "PUBLIC_URL is http here")
	raw, err := base64.RawURLEncoding.DecodeString(cookie.Value)
	require.NoError(t, err)
	require.Len(t, raw, 32, "256 random bits")
	hash := sha256.Sum256(raw)
	var stored []byte
	require.NoError(t, b.st.Pool.QueryRow(t.Context(), "SELECT token_hash FROM user_sessions").Scan(&stored))
	require.Equal(t, hash[:], stored)

	me := do(t, c, http.MethodGet, b.url+"/me", nil)
	require.Equal(t, http.StatusOK, me.status)
	require.Contains(t, me.body, "Signed in as tess")
	require.Contains(t, me.body, "No nation linked")
	require.Contains(t, me.body, agent, "the session list shows the browser")
	require.Contains(t, me.body, "Sign out everywhere")
	require.Contains(t, me.body, "<dt>Private replies</dt><dd>off")

	// The page reads /preferences as the bot does.
	_, err = b.st.Pool.Exec(t.Context(), `UPDATE users SET preferences = '{"private": true, "unknown": 1}' WHERE discord_id = $1`, userTess)
	require.NoError(t, err)
	require.Contains(t, do(t, c, http.MethodGet, b.url+"/me", nil).body, "<dt>Private replies</dt><dd>on")

	u, err := b.st.UserGetByDiscordID(t.Context(), userTess)
	require.NoError(t, err)
	require.Equal(t, "tess", u.DiscordUsername)
	require.NotNil(t, u.LastLoginAt)
	logins := b.audits(t, "auth.login")
	require.Len(t, logins, 1)
	require.Equal(t, u.ID, *logins[0].UserID)
	require.Equal(t, "127.0.0.1", logins[0].IpAddress.String())
	require.Equal(t, agent, logins[0].UserAgent)

	// /login?next= brings the user back where they were going, and only
	// to a page of this site.
	b.discord.SignIn(tess)
	a := do(t, b.browser(t), http.MethodGet, b.url+"/login?next="+url.QueryEscape("/a/nowhere"), nil)
	require.Equal(t, b.url+"/a/nowhere", a.url)
	for _, next := range []string{"//evil.example/", "/\t/evil.example/", "/\\evil.example/", "https://evil.example/"} {
		a = do(t, b.browser(t), http.MethodGet, b.url+"/login?next="+url.QueryEscape(next), nil)
		require.Equal(t, b.url+"/me", a.url, next)
	}
}

func TestSignInRefused(t *testing.T) {
	t.Parallel()

	refused := func(t *testing.T, b *bundle, a answer, reason string) {
		t.Helper()
		require.Equal(t, http.StatusBadRequest, a.status, a.body)
		require.Contains(t, a.body, "Sign-in failed")
		require.Zero(t, b.sessions(t), "no session")
		rows := b.audits(t, "auth.login_refused")
		require.NotEmpty(t, rows)
		last := rows[len(rows)-1]
		require.False(t, last.Success)
		require.JSONEq(t, `{"reason":"`+reason+`"}`, string(last.NewValues))
		require.Equal(t, agent, last.UserAgent)
	}

	t.Run("StateMismatch", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.browser(t)
		cb := b.callbackURL(t, c, tess)
		q := cb.Query()
		q.Set("state", "forged")
		cb.RawQuery = q.Encode()
		refused(t, b, do(t, c, http.MethodGet, cb.String(), nil), "state mismatch")
	})

	t.Run("MissingCookie", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cb := b.callbackURL(t, b.browser(t), tess)
		// Another browser opens the link: it has no state cookie.
		refused(t, b, do(t, b.browser(t), http.MethodGet, cb.String(), nil), "no state cookie")
	})

	t.Run("ReplayedCode", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.browser(t)
		first := b.callbackURL(t, c, tess)
		require.Equal(t, http.StatusOK, do(t, c, http.MethodGet, first.String(), nil).status)
		require.Equal(t, 1, b.sessions(t))
		// The same browser starts again and slips the used code in with its
		// new, valid state: Discord refuses the code.
		second := b.callbackURL(t, c, tess)
		q := second.Query()
		q.Set("code", first.Query().Get("code"))
		second.RawQuery = q.Encode()
		a := do(t, c, http.MethodGet, second.String(), nil)
		require.Equal(t, http.StatusBadRequest, a.status)
		require.Contains(t, a.body, "already used")
		require.Equal(t, 1, b.sessions(t), "no second session")
		require.JSONEq(t, `{"reason":"code refused"}`, string(b.audits(t, "auth.login_refused")[0].NewValues))
	})

	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.browser(t)
		cb := b.callbackURL(t, c, tess)
		q := cb.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		cb.RawQuery = q.Encode()
		a := do(t, c, http.MethodGet, cb.String(), nil)
		require.Equal(t, http.StatusForbidden, a.status)
		require.Zero(t, b.sessions(t))
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()

	signedOut := func(t *testing.T, b *bundle, c *http.Client) {
		t.Helper()
		resp := get(t, noFollow(c), b.url+"/me")
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/login?next=%2Fme", resp.Header.Get("Location"))
	}

	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.browser(t)
		b.signIn(t, c, tess)
		// Used every 23 hours, it never idles out, and still ends after 7 days.
		for elapsed := 23 * time.Hour; elapsed < site.SessionLifetime; elapsed += 23 * time.Hour {
			b.advance(23 * time.Hour)
			require.Equal(t, http.StatusOK, do(t, c, http.MethodGet, b.url+"/me", nil).status, "after %s", elapsed)
		}
		b.advance(23 * time.Hour)
		signedOut(t, b, c)
	})

	t.Run("Idle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.browser(t)
		b.signIn(t, c, tess)
		b.advance(site.IdleTimeout - time.Minute)
		require.Equal(t, http.StatusOK, do(t, c, http.MethodGet, b.url+"/me", nil).status)
		b.advance(site.IdleTimeout + time.Minute)
		signedOut(t, b, c)
	})

	t.Run("Revoked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		phone, laptop := b.browser(t), b.browser(t)
		b.signIn(t, phone, tess)
		b.signIn(t, laptop, tess)
		b.signIn(t, b.browser(t), bob)
		// Both sessions are cached in Redis by now.
		require.Equal(t, http.StatusOK, do(t, phone, http.MethodGet, b.url+"/me", nil).status)
		me := do(t, laptop, http.MethodGet, b.url+"/me", nil)
		require.Equal(t, 2, strings.Count(me.body, agent), "two sessions listed")

		a := do(t, laptop, http.MethodPost, b.url+"/me/sign-out-everywhere", url.Values{})
		require.Equal(t, http.StatusOK, a.status)
		require.Equal(t, b.url+"/", a.url)
		signedOut(t, b, laptop)
		signedOut(t, b, phone)
		var revoked, live int
		require.NoError(t, b.st.Pool.QueryRow(t.Context(),
			"SELECT count(revoked_at), count(*) - count(revoked_at) FROM user_sessions").Scan(&revoked, &live))
		require.Equal(t, 2, revoked)
		require.Equal(t, 1, live, "bob's session stays")
		rows := b.audits(t, "auth.sessions_revoked")
		require.Len(t, rows, 1)
		require.JSONEq(t, `{"sessions":2}`, string(rows[0].NewValues))
		require.Equal(t, "127.0.0.1", rows[0].IpAddress.String())
	})

	t.Run("Logout", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.browser(t)
		b.signIn(t, c, tess)

		// A form posted from another site is refused, and changes nothing.
		req, err := http.NewRequest(http.MethodPost, b.url+"/logout", nil)
		require.NoError(t, err)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Equal(t, http.StatusOK, do(t, c, http.MethodGet, b.url+"/me", nil).status)

		a := do(t, c, http.MethodPost, b.url+"/logout", url.Values{})
		require.Equal(t, b.url+"/", a.url)
		require.Contains(t, a.body, "Sign in with Discord")
		signedOut(t, b, c)
		var revoked *time.Time
		require.NoError(t, b.st.Pool.QueryRow(t.Context(), "SELECT revoked_at FROM user_sessions").Scan(&revoked))
		require.NotNil(t, revoked)
		rows := b.audits(t, "auth.logout")
		require.Len(t, rows, 1)
		require.Equal(t, agent, rows[0].UserAgent)
		require.Equal(t, "127.0.0.1", rows[0].IpAddress.String())
	})

	t.Run("AccountDeleted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.browser(t)
		b.signIn(t, c, tess)
		u, err := b.st.UserGetByDiscordID(t.Context(), userTess)
		require.NoError(t, err)
		_, err = b.st.UserDelete(t.Context(), u.ID)
		require.NoError(t, err)
		require.Zero(t, b.sessions(t), "the sessions went with the account")
		signedOut(t, b, c)
	})
}

// linkTess links Tess's nation as /link would, and makes her the admin of
// Rose, public when public is set.
func (b *bundle) linkTess(t testing.TB, public bool) store.Alliance {
	t.Helper()
	u, err := b.st.UserUpsertByDiscordID(t.Context(), store.UserUpsertByDiscordIDParams{DiscordID: userTess, DiscordUsername: "tess", KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	nation := int64(tessNat)
	_, err = b.st.UserLinkNation(t.Context(), store.UserLinkNationParams{ID: u.ID, PnwNationID: &nation, PnwApiKey: []byte("sealed"), KeyPermissions: []byte(`{}`)})
	require.NoError(t, err)
	score, count := 123456.78, int32(2)
	a, err := b.st.AllianceUpsert(t.Context(), store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", Acronym: "Rose", RouteSlug: "rose",
		MemberCount: &count, Score: &score})
	require.NoError(t, err)
	a, err = b.st.AllianceSetPublicSlug(t.Context(), store.AllianceSetPublicSlugParams{ID: a.ID, IsPublic: public, RouteSlug: "rose"})
	require.NoError(t, err)
	_, err = b.st.AllianceManagerUpsert(t.Context(), store.AllianceManagerUpsertParams{UserID: u.ID, AllianceID: a.ID, Role: "admin", Permissions: []byte(`{}`)})
	require.NoError(t, err)
	return a
}

func TestAlliancePages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.linkTess(t, false)
	manager, stranger, visitor := b.browser(t), b.browser(t), b.browser(t)
	b.signIn(t, manager, tess)
	b.signIn(t, stranger, bob)
	tessUser, err := b.st.UserGetByDiscordID(t.Context(), userTess)
	require.NoError(t, err)
	_, err = b.st.AuditLogInsert(t.Context(), store.AuditLogInsertParams{UserID: &tessUser.ID, AllianceID: &a.ID, Action: "alliance.settings", ResourceType: "alliance", Success: true})
	require.NoError(t, err)

	b.game.AddNation(fakepnw.Nation{ID: 6001, NationName: "Thornland", AllianceID: 88})
	b.game.AddWar(fakepnw.War{ID: 31, Date: time.Now(), WarType: "RAID", TurnsLeft: 17, AttID: 6001, AttAllianceID: 88, DefID: tessNat,
		DefAllianceID: rose, AttResistance: 80, DefResistance: 55})

	page := do(t, manager, http.MethodGet, b.url+"/alliances/rose", nil)
	require.Equal(t, http.StatusOK, page.status, page.body)
	require.Contains(t, page.body, "Testonia")
	require.Contains(t, page.body, "Bobistan")
	require.Contains(t, page.body, "Active wars")
	require.Contains(t, page.body, `Thornland vs Testonia</a></td>
<td>defensive</td><td>Raid</td><td class="num">17</td><td class="num">80 vs 55</td>`, "the wars as /war list shows them")
	require.Contains(t, page.body, "The bank cannot be read now")
	require.Contains(t, page.body, "Audit log")
	require.Contains(t, page.body, `alliance.settings</td><td>tess <span class="muted">`+userTess+`</span>`, "who acted, by name")
	require.Contains(t, page.body, "Page 1 of 1")

	me := do(t, manager, http.MethodGet, b.url+"/me", nil)
	require.Contains(t, me.body, `href="/alliances/rose"`)
	require.Contains(t, me.body, "Testonia")

	denied := do(t, stranger, http.MethodGet, b.url+"/alliances/rose", nil)
	require.Equal(t, http.StatusForbidden, denied.status)
	require.Contains(t, denied.body, "canViewMembers")
	require.NotContains(t, denied.body, "Testonia")
	rows := b.audits(t, "permission.denied")
	require.Len(t, rows, 1)
	require.Equal(t, a.ID, *rows[0].AllianceID)
	require.False(t, rows[0].Success)

	require.Equal(t, http.StatusNotFound, do(t, manager, http.MethodGet, b.url+"/alliances/nowhere", nil).status)
	require.Equal(t, http.StatusSeeOther, get(t, noFollow(visitor), b.url+"/alliances/rose").StatusCode, "signed out: sign in first")

	// The public page exists only once the alliance is public, and names
	// no Discord user.
	require.Equal(t, http.StatusNotFound, do(t, visitor, http.MethodGet, b.url+"/a/rose", nil).status)
	_, err = b.st.AllianceSetPublicSlug(t.Context(), store.AllianceSetPublicSlugParams{ID: a.ID, IsPublic: true, RouteSlug: "rose"})
	require.NoError(t, err)
	pub := do(t, visitor, http.MethodGet, b.url+"/a/rose", nil)
	require.Equal(t, http.StatusOK, pub.status)
	require.Contains(t, pub.body, "Rose")
	require.Contains(t, pub.body, "123456.78")
	require.Contains(t, pub.body, "Testonia")
	require.Contains(t, pub.body, "rose.png")
	require.NotContains(t, pub.body, userTess)
	require.NotContains(t, pub.body, "tess")
	require.Equal(t, "public, max-age=60", pub.header.Get("Cache-Control"))
	require.Equal(t, http.StatusNotFound, do(t, visitor, http.MethodGet, b.url+"/a/nowhere", nil).status)
}

// registerMetadata registers the Linked Roles records, as the bot does at start.
func (b *bundle) registerMetadata(t *testing.T) {
	t.Helper()
	body, err := json.Marshal(site.RoleMetadata)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPut, b.discord.URL+"/api/v9/applications/"+fakediscord.AppID+"/role-connections/metadata", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bot "+fakediscord.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestLinkedRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.linkTess(t, false)
	b.registerMetadata(t)

	b.discord.SignIn(tess)
	c := b.browser(t)
	a := do(t, c, http.MethodGet, b.url+"/linked-role", nil)
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Contains(t, a.body, "connected to Discord")
	want := &fakediscord.RoleConnection{PlatformName: "Politics and War", PlatformUsername: "Testonia",
		Metadata: map[string]string{"verified": "1", "alliance_id": "9", "cities": "21", "score": "2500"}}
	require.Equal(t, want, b.discord.RoleConnection(userTess))
	var sealed []byte
	require.NoError(t, b.st.Pool.QueryRow(t.Context(), "SELECT access_token FROM role_connections").Scan(&sealed))
	require.NotContains(t, string(sealed), "access-", "the token is sealed")
	require.Contains(t, do(t, c, http.MethodGet, b.url+"/me", nil).body, "connected")

	u, err := b.st.UserGetByDiscordID(t.Context(), userTess)
	require.NoError(t, err)

	// The nation grows and changes alliance: the periodic refresh follows.
	b.game.AddNation(fakepnw.Nation{ID: tessNat, NationName: "Testonia", LeaderName: "Tess", AllianceID: 77, Score: 3000, NumCities: 22})
	n, err := b.linked.RefreshRoleConnections(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, map[string]string{"verified": "1", "alliance_id": "77", "cities": "22", "score": "3000"}, b.discord.RoleConnection(userTess).Metadata)

	// /unlink: no longer verified.
	_, err = b.st.UserUnlink(t.Context(), u.ID)
	require.NoError(t, err)
	require.NoError(t, b.linked.SyncRoleConnection(t.Context(), u.ID))
	require.Equal(t, &fakediscord.RoleConnection{PlatformName: "Politics and War", Metadata: map[string]string{"verified": "0"}},
		b.discord.RoleConnection(userTess))

	// /delete-account: emptied, and the grant is gone.
	require.NoError(t, b.linked.ForgetRoleConnection(t.Context(), u.ID))
	require.Empty(t, b.discord.RoleConnection(userTess).Metadata)
	_, err = b.st.RoleConnectionGet(t.Context(), u.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestLinkedRolesMembership: the connection reports alliance_id only for
// positions above applicant, and the role-sync pass's member list pushes a
// fresh one when membership changes: accepted, or gone from the alliance.
func TestLinkedRolesMembership(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.linkTess(t, false)
	b.registerMetadata(t)
	applicant := fakepnw.Nation{ID: tessNat, NationName: "Testonia", LeaderName: "Tess", AllianceID: rose, AlliancePosition: "APPLICANT",
		Score: 2500.5, NumCities: 21, DiscordID: userTess}
	b.game.AddNation(applicant)
	b.discord.SignIn(tess)
	require.Equal(t, http.StatusOK, do(t, b.browser(t), http.MethodGet, b.url+"/linked-role", nil).status)
	require.Equal(t, map[string]string{"verified": "1", "cities": "21", "score": "2500"}, b.discord.RoleConnection(userTess).Metadata,
		"an applicant is no member")

	list := func(position pnw.AlliancePositionEnum) []pnw.Nation {
		return []pnw.Nation{{Id: strconv.Itoa(tessNat), NationName: "Testonia", AllianceId: strconv.Itoa(rose), AlliancePosition: position, NumCities: 21, Score: 2500.5}}
	}
	n, err := b.linked.SyncAlliance(t.Context(), rose, list(pnw.AlliancePositionEnumAPPLICANT))
	require.NoError(t, err)
	require.Zero(t, n, "nothing changed")

	// Accepted in the game: the pass pushes alliance_id at once.
	n, err = b.linked.SyncAlliance(t.Context(), rose, list(pnw.AlliancePositionEnumMEMBER))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, "9", b.discord.RoleConnection(userTess).Metadata["alliance_id"])

	// She leaves: gone from the list, she is read again and cleared.
	applicant.AllianceID, applicant.AlliancePosition = 0, ""
	b.game.AddNation(applicant)
	n, err = b.linked.SyncAlliance(t.Context(), rose, nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, map[string]string{"verified": "1", "cities": "21", "score": "2500"}, b.discord.RoleConnection(userTess).Metadata)
	n, err = b.linked.SyncAlliance(t.Context(), rose, nil)
	require.NoError(t, err)
	require.Zero(t, n, "she no longer speaks of the alliance")
}

// TestSecureCookies: behind https, the state and session cookies are Secure.
func TestSecureCookies(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	oauth, err := site.NewOAuth(site.OAuthOptions{Store: st, DiscordURL: "https://discord.com",
		ClientID: fakediscord.AppID, ClientSecret: "secret", PublicURL: "https://pnwbot.example.org/"})
	require.NoError(t, err)
	s, err := site.New(site.Options{Store: st, OAuth: oauth, Linked: roles.NewLinked(roles.LinkedOptions{Store: st, Writer: oauth}),
		Keys: keys.New(keys.Options{Store: st}), PublicURL: "https://pnwbot.example.org/"})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://pnwbot.example.org/login", nil))
	require.Equal(t, http.StatusFound, rec.Code)
	authorize, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "discord.com", authorize.Host)
	require.Equal(t, "https://pnwbot.example.org/oauth/callback", authorize.Query().Get("redirect_uri"))
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	require.True(t, cookies[0].Secure)
	require.True(t, cookies[0].HttpOnly)
	require.Equal(t, "__Host-pnwbot_oauth", cookies[0].Name, "only this host, over https, may set it")
	require.Equal(t, "/", cookies[0].Path, "as __Host- requires")
	require.Equal(t, "max-age=31536000", rec.Header().Get("Strict-Transport-Security"))
}

// limited gives the site the commands' limiters, in Redis: n requests a
// minute per address and per session, one audit row a minute per key.
func limited(n int) func(*site.Options, *bundle) {
	return func(o *site.Options, b *bundle) {
		o.Requests = kv.NewRedisLimiter(b.rdb, b.prefix, bot.FixedRate(bot.Rate{Requests: n, Window: time.Minute}))
		o.Once = kv.NewRedisLimiter(b.rdb, b.prefix, bot.FixedRate(bot.Rate{Requests: 1, Window: time.Minute}))
	}
}

// TestWebAbuse: every page is held to a rate per address and per session;
// a flood of forged sign-ins or refused pages is counted and audited once
// a minute, not once a request.
func TestWebAbuse(t *testing.T) {
	t.Parallel()

	t.Run("RatePerAddress", func(t *testing.T) {
		t.Parallel()
		b := setupWith(t, false, limited(5))
		c := b.browser(t)
		for range 5 {
			require.Equal(t, http.StatusOK, do(t, c, http.MethodGet, b.url+"/", nil).status)
		}
		a := do(t, b.browser(t), http.MethodGet, b.url+"/a/rose", nil)
		require.Equal(t, http.StatusTooManyRequests, a.status, "another browser, the same address")
		require.NotEmpty(t, a.header.Get("Retry-After"))
	})

	t.Run("RatePerSession", func(t *testing.T) {
		t.Parallel()
		// The session's limit holds from any address: a proxy in front
		// makes each request look like it comes from elsewhere.
		var n atomic.Int32
		b := setupWith(t, false, limited(8), func(o *site.Options, _ *bundle) {
			o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		c := b.browser(t)
		c.Transport = forwardedFor(func() string { return fmt.Sprintf("203.0.113.%d", n.Add(1)) })
		b.signIn(t, c, tess)
		status := 0
		for i := 0; i < 10 && status != http.StatusTooManyRequests; i++ {
			status = do(t, c, http.MethodGet, b.url+"/me", nil).status
		}
		require.Equal(t, http.StatusTooManyRequests, status)
	})

	t.Run("AnonymousFailuresAuditedOncePerMinute", func(t *testing.T) {
		t.Parallel()
		reg := prometheus.NewRegistry()
		b := setupWith(t, false, limited(1000), func(o *site.Options, _ *bundle) { o.Registerer = reg })
		c := b.browser(t)
		for range 5 {
			require.Equal(t, http.StatusBadRequest, do(t, c, http.MethodGet, b.url+"/oauth/callback?code=x&state=forged", nil).status)
		}
		require.Len(t, b.audits(t, "auth.login_refused"), 1, "one row a minute per address")
		require.Equal(t, 5.0, counter(t, reg, "pnwbot_web_refused_total", "no_state_cookie"), "each one counted")
	})

	t.Run("RefusedPagesAuditedOncePerMinute", func(t *testing.T) {
		t.Parallel()
		b := setupWith(t, false, limited(1000))
		b.linkTess(t, false)
		c := b.browser(t)
		b.signIn(t, c, bob)
		for range 4 {
			require.Equal(t, http.StatusForbidden, do(t, c, http.MethodGet, b.url+"/admin", nil).status)
			require.Equal(t, http.StatusForbidden, do(t, c, http.MethodGet, b.url+"/alliances/rose", nil).status)
		}
		require.Len(t, b.audits(t, "permission.denied"), 2, "one per page a minute, not one per request")
	})
}

// forwardedFor is a browser behind a proxy that names it in X-Forwarded-For.
type forwardedFor func() string

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", agent)
	r.Header.Set("X-Forwarded-For", f())
	return http.DefaultTransport.RoundTrip(r)
}

func counter(t *testing.T, g prometheus.Gatherer, name, reason string) float64 {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if f.GetName() == name && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestTrustedProxies: the address audited and kept with the session is
// the client's as a trusted proxy names it, and the peer's otherwise.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		want    string
	}{
		{"untrusted peer", nil, "127.0.0.1"},
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, false, func(o *site.Options, _ *bundle) { o.TrustedProxies = tc.trusted })
			c := b.browser(t)
			// The client forged the first hop; the second proxy (10.1.2.3) is trusted too.
			c.Transport = forwardedFor(func() string { return "198.51.100.1, 203.0.113.9, 10.1.2.3" })
			b.signIn(t, c, tess)
			login := b.audits(t, "auth.login")
			require.Len(t, login, 1)
			require.Equal(t, tc.want, login[0].IpAddress.String())
			var ip netip.Addr
			require.NoError(t, b.st.Pool.QueryRow(t.Context(), "SELECT ip_address FROM user_sessions").Scan(&ip))
			require.Equal(t, tc.want, ip.String())
		})
	}
}

// TestSignInAgain: signing in again in the same browser ends its previous
// session, and the callback checks again where it sends the browser.
func TestSignInAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	b.signIn(t, c, tess)
	u, err := url.Parse(b.url)
	require.NoError(t, err)
	old := c.Jar.Cookies(u)
	b.signIn(t, c, tess)
	var live int
	require.NoError(t, b.st.Pool.QueryRow(t.Context(), "SELECT count(*) FROM user_sessions WHERE revoked_at IS NULL").Scan(&live))
	require.Equal(t, 1, live, "the first session was revoked")
	stale := b.browser(t)
	stale.Jar.SetCookies(u, old)
	require.Equal(t, http.StatusSeeOther, get(t, noFollow(stale), b.url+"/me").StatusCode, "the old token no longer counts")

	// A state cookie whose next leaves the site (forged, or from an older
	// version) lands on /me.
	cb := b.callbackURL(t, c, tess)
	var state *http.Cookie
	for _, ck := range c.Jar.Cookies(cb) {
		if ck.Name == "pnwbot_oauth" {
			state = ck
		}
	}
	require.NotNil(t, state)
	parts := strings.Split(state.Value, ".")
	parts[3] = base64.RawURLEncoding.EncodeToString([]byte("//evil.example/"))
	c.Jar.SetCookies(cb, []*http.Cookie{{Name: "pnwbot_oauth", Value: strings.Join(parts, "."), Path: "/"}})
	resp := get(t, noFollow(c), cb.String())
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/me", resp.Header.Get("Location"))
}

// TestImagesFromTheGameOnly: pages load images from the game's hosts only.
func TestImagesFromTheGameOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := do(t, b.browser(t), http.MethodGet, b.url+"/", nil)
	require.Contains(t, a.header.Get("Content-Security-Policy"), "img-src https://politicsandwar.com https://*.politicsandwar.com data:;")
	b.linkTess(t, true)
	b.game.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Flag: "https://tracker.example/rose.png"})
	pub := do(t, b.browser(t), http.MethodGet, b.url+"/a/rose", nil)
	require.Equal(t, http.StatusOK, pub.status)
	require.NotContains(t, pub.body, "tracker.example", "a flag elsewhere is left out")
}

// TestSessionCacheCannotMintSessions: whoever can write to Redis cannot
// sign in as anyone: an entry without the MAC of ENCRYPTION_KEY counts for
// nothing; and a revoked session is not cached again by a read that raced
// its revocation.
func TestSessionCacheCannotMintSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.linkTess(t, false)
	tessUser, err := b.st.UserGetByDiscordID(t.Context(), userTess)
	require.NoError(t, err)

	// A forged entry for a token the attacker chose.
	raw := make([]byte, 32)
	raw[0] = 7
	hash := sha256.Sum256(raw)
	forged, err := json.Marshal(store.UserSession{ID: 999, UserID: tessUser.ID, TokenHash: hash[:],
		ExpiresAt: time.Now().Add(time.Hour), LastUsedAt: time.Now()})
	require.NoError(t, err)
	key := b.prefix + "session:" + hex.EncodeToString(hash[:])
	for _, v := range [][]byte{forged, append(make([]byte, 32), forged...)} {
		require.NoError(t, b.rdb.Set(t.Context(), key, v, time.Minute).Err())
		c := b.browser(t)
		u, err := url.Parse(b.url)
		require.NoError(t, err)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "pnwbot_session", Value: base64.RawURLEncoding.EncodeToString(raw), Path: "/"}})
		require.Equal(t, http.StatusSeeOther, get(t, noFollow(c), b.url+"/me").StatusCode, "not signed in")
	}

	// A read that raced the revocation tries to cache the live session
	// after the revocation deleted it: the tombstone wins.
	cache := kv.NewSessionCache(b.rdb, b.prefix, b.macKey)
	c := b.browser(t)
	b.signIn(t, c, tess)
	var sess store.UserSession
	require.NoError(t, b.st.Pool.QueryRow(t.Context(), "SELECT token_hash FROM user_sessions").Scan(&sess.TokenHash))
	live, ok, err := cache.Get(t.Context(), sess.TokenHash)
	require.NoError(t, err)
	require.True(t, ok, "the signed-in page cached it")
	require.Equal(t, http.StatusOK, do(t, c, http.MethodPost, b.url+"/logout", url.Values{}).status)
	require.NoError(t, cache.Set(t.Context(), live))
	_, ok, err = cache.Get(t.Context(), sess.TokenHash)
	require.NoError(t, err)
	require.False(t, ok, "the revoked session is not cached again")
	require.Equal(t, http.StatusSeeOther, get(t, noFollow(c), b.url+"/me").StatusCode, "signed out")
}

// TestMeNeedsViewOwnData: the web /me, like /me in Discord, needs
// canViewOwnData; a refusal is audited.
func TestMeNeedsViewOwnData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.linkTess(t, false)
	c := b.browser(t)
	b.signIn(t, c, tess)
	require.Contains(t, do(t, c, http.MethodGet, b.url+"/me", nil).body, "Testonia")
	_, err := b.st.Pool.Exec(t.Context(), `UPDATE users SET permissions = '{"canViewOwnData": false, "canEditOwnProfile": true, "canLinkApiKey": true, "canDeleteAccount": true}' WHERE discord_id = $1`, userTess)
	require.NoError(t, err)
	me := do(t, c, http.MethodGet, b.url+"/me", nil)
	require.Equal(t, http.StatusForbidden, me.status)
	require.Contains(t, me.body, "canViewOwnData")
	require.NotContains(t, me.body, "Testonia")
	require.Len(t, b.audits(t, "permission.denied"), 1)
}
