// Package site is pnwbot's web side: Discord OAuth2 login, sessions, the
// dashboard (/me, /alliances/{slug}), public alliance pages (/a/{slug}) and
// Linked Roles (/linked-role). Pages are server-rendered html/templates
// embedded in the binary; they read the same store, game client and access
// decisions as the slash commands.
package site

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pnwbot/bank"
	"pnwbot/ia"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/roles"
	"pnwbot/store"
)

// Options configure the site.
type Options struct {
	Store *store.Store
	// Sessions, when set, caches session lookups.
	Sessions SessionCache
	Game     *pnw.Client
	// Keys says where a member's stored key stands, as /me in Discord
	// does: the one keys.Keys the commands were built with.
	Keys *keys.Keys
	// Bank is the alliances' banks, as the commands have them: the
	// holdings on /alliances/{slug} (read with a manager's key, as
	// /alliance bank), the ledger on /alliances/{slug}/bank and the
	// member's balance on /me. nil leaves them all off.
	Bank *bank.Bank
	// Audit judges an alliance's members against its audit rules, as
	// /audit run does; its zero value reads with Store and Game and leaves
	// the discord rule's "in the server" unchecked.
	Audit ia.Auditor
	// OAuth signs users in at Discord.
	OAuth *OAuth
	// Linked writes users' Linked Roles connections (with OAuth's grants).
	Linked *roles.Linked
	// PublicURL is where browsers reach the site: cookies are Secure when
	// it is https.
	PublicURL string
	// Requests limits the requests of each client address and of each
	// session (keys "web:ip:..." and "web:session:..."), with the
	// commands' limiter; nil leaves them unlimited.
	Requests Limiter
	// Once admits one audit row a minute per key: anonymous refusals per
	// address, refused pages per user. nil audits every refusal.
	Once Limiter
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (TRUSTED_PROXIES); others are the client themselves.
	TrustedProxies []netip.Prefix
	// Registerer, when set, registers the site's metrics.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Site serves the web pages; New builds it, Handler serves it.
type Site struct {
	opts    Options
	secure  bool
	pages   map[string]*template.Template
	metrics metrics
}

//go:embed templates
var templates embed.FS

// New checks opts and parses the templates.
func New(opts Options) (*Site, error) {
	u, err := url.Parse(opts.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("site: public URL %q is not an http(s) URL", opts.PublicURL)
	}
	if opts.OAuth == nil || opts.Linked == nil || opts.Keys == nil {
		return nil, errors.New("site: no OAuth2 client, Linked Roles or keys")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Audit.Store == nil {
		opts.Audit = ia.Auditor{Store: opts.Store, Game: opts.Game}
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	s := &Site{
		opts:   opts,
		secure: u.Scheme == "https",
		pages:  map[string]*template.Template{},
	}
	if s.metrics, err = newMetrics(opts.Registerer); err != nil {
		return nil, fmt.Errorf("site: metrics: %w", err)
	}
	for _, name := range []string{"home", "me", "alliance", "bank", "public", "error", "linked", "admin", "audit"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templates, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("site: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return s, nil
}

// Handler serves every page, refusing cross-origin form posts.
func (s *Site) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("GET /linked-role", s.linkedRole)
	mux.HandleFunc("GET /oauth/callback", s.callback)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("POST /me/sign-out-everywhere", s.signedIn(s.signOutEverywhere))
	mux.HandleFunc("GET /me", s.signedIn(s.me))
	mux.HandleFunc("GET /alliances/{slug}", s.signedIn(s.alliance))
	mux.HandleFunc("GET /alliances/{slug}/audit", s.signedIn(s.auditPage))
	if s.opts.Bank != nil {
		mux.HandleFunc("GET /alliances/{slug}/bank", s.signedIn(s.allianceBank))
	}
	mux.HandleFunc("GET /a/{slug}", s.public)
	mux.HandleFunc("GET /admin", s.signedIn(s.admin))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "Not found", "There is no page at this address.")
	})
	return s.guard(http.NewCrossOriginProtection().Handler(mux))
}

// page is what every template gets: the signed-in user (nil when nobody
// is) and the page's own data.
type page struct {
	Title string
	User  *store.User
	Data  any
}

// render writes a page; a template that fails is logged and answered 500
// before anything reached the browser.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var b strings.Builder
	if err := s.pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		s.opts.Logger.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src https://politicsandwar.com https://*.politicsandwar.com data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail answers with an error page; the user, when signed in, stays in the
// navigation.
type failure struct{ Heading, Text string }

func (s *Site) fail(w http.ResponseWriter, r *http.Request, status int, heading, text string) {
	u, _ := s.currentUser(r)
	s.render(w, r, status, "error", page{Title: heading, User: u, Data: failure{heading, text}})
}

// internal logs err and answers 500 with nothing of it.
func (s *Site) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.ErrorContext(r.Context(), "web request failed", "path", r.URL.Path, "error", err)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong", "Try again in a moment.")
}

func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	u, _ := s.currentUser(r)
	s.render(w, r, http.StatusOK, "home", page{Title: "pnwbot", User: u})
}

var funcs = template.FuncMap{
	"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"score": func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"flag":  flagURL,
	"amount": func(f float64) string {
		// Whole units with thousands separators, as /alliance bank shows them.
		digits := strconv.FormatFloat(math.Round(math.Abs(f)), 'f', 0, 64)
		for i := len(digits) - 3; i > 0; i -= 3 {
			digits = digits[:i] + "," + digits[i:]
		}
		if f < 0 {
			return "−" + digits
		}
		return digits
	},
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
	},
}
