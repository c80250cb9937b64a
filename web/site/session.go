package site

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"pnwbot/store"
)

const (
	sessionCookie = "pnwbot_session"
	// SessionLifetime is how long a session lasts at most.
	SessionLifetime = 7 * 24 * time.Hour
	// IdleTimeout ends a session unused for that long.
	IdleTimeout = 24 * time.Hour
	// touchEvery bounds how often a request writes last_used_at.
	touchEvery   = 5 * time.Minute
	maxUserAgent = 512
)

// newSession starts a session for the user in q's transaction and returns
// the cookie's token: 256 random bits, of which only the SHA-256 is stored.
func (s *Site) newSession(ctx context.Context, q *store.Queries, userID int64, r *http.Request) (string, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails
	hash := sha256.Sum256(raw)
	now := s.opts.Now()
	_, err := q.UserSessionCreate(ctx, store.UserSessionCreateParams{
		UserID: userID, TokenHash: hash[:], IpAddress: s.ipOf(r), UserAgent: userAgent(r),
		ExpiresAt: now.Add(SessionLifetime),
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// cookie is the name of a cookie: behind https with the __Host- prefix, so
// that only this host, over https, on every path, can set it.
func (s *Site) cookie(name string) string {
	if s.secure {
		return "__Host-" + name
	}
	return name
}

func (s *Site) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie(sessionCookie), Value: token, Path: "/", MaxAge: int(SessionLifetime / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Site) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie(sessionCookie), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// tokenHash is the stored form of the request's session cookie; nil when
// it has none or a malformed one.
func (s *Site) tokenHash(r *http.Request) []byte {
	c, err := r.Cookie(s.cookie(sessionCookie))
	if err != nil {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != 32 {
		return nil
	}
	h := sha256.Sum256(raw)
	return h[:]
}

// errNoSession means the request carries no live session.
var errNoSession = errors.New("no session")

// session returns the request's live session: not expired, revoked or
// idle. PostgreSQL decides; the session cache only remembers its answer
// for a minute, and forgets it on revocation.
func (s *Site) session(ctx context.Context, r *http.Request) (store.UserSession, error) {
	hash := s.tokenHash(r)
	if hash == nil {
		return store.UserSession{}, errNoSession
	}
	now := s.opts.Now()
	sess, cached := s.cachedSession(ctx, hash)
	if !cached {
		var err error
		sess, err = s.opts.Store.UserSessionGetActive(ctx, store.UserSessionGetActiveParams{
			TokenHash: hash, Now: now, IdleSince: now.Add(-IdleTimeout)})
		if errors.Is(err, store.ErrNotFound) {
			return sess, errNoSession
		} else if err != nil {
			return sess, fmt.Errorf("session: %w", err)
		}
		s.cacheSession(ctx, sess)
	}
	if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || !now.Before(sess.LastUsedAt.Add(IdleTimeout)) {
		return sess, errNoSession
	}
	if now.Sub(sess.LastUsedAt) >= touchEvery {
		if err := s.opts.Store.UserSessionTouch(ctx, store.UserSessionTouchParams{ID: sess.ID, Now: now}); err != nil {
			return sess, fmt.Errorf("touch session: %w", err)
		}
		sess.LastUsedAt = now
		s.cacheSession(ctx, sess)
	}
	return sess, nil
}

// SessionCache remembers session lookups for a short while (store/kv's,
// in Redis); PostgreSQL decides, and a revocation deletes what it held.
type SessionCache interface {
	Get(ctx context.Context, tokenHash []byte) (sess store.UserSession, ok bool, err error)
	Set(ctx context.Context, sess store.UserSession) error
	Delete(ctx context.Context, tokenHashes ...[]byte) error
}

func (s *Site) cachedSession(ctx context.Context, hash []byte) (store.UserSession, bool) {
	if s.opts.Sessions == nil {
		return store.UserSession{}, false
	}
	sess, ok, err := s.opts.Sessions.Get(ctx, hash)
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "session cache read", "error", err)
	}
	return sess, ok
}

func (s *Site) cacheSession(ctx context.Context, sess store.UserSession) {
	if s.opts.Sessions == nil {
		return
	}
	if err := s.opts.Sessions.Set(ctx, sess); err != nil {
		s.opts.Logger.WarnContext(ctx, "session cache write", "error", err)
	}
}

// forget drops revoked sessions from the cache. A failure is logged, not
// returned: the revocation is in PostgreSQL already, and the cache keeps
// its stale answer for at most a minute.
func (s *Site) forget(ctx context.Context, hashes ...[]byte) {
	if s.opts.Sessions == nil || len(hashes) == 0 {
		return
	}
	if err := s.opts.Sessions.Delete(ctx, hashes...); err != nil {
		s.opts.Logger.ErrorContext(ctx, "forget revoked sessions: they may count for up to a minute more", "sessions", len(hashes), "error", err)
	}
}

// currentUser is the signed-in user, nil when nobody is (or their account
// is gone: its sessions went with it).
func (s *Site) currentUser(r *http.Request) (*store.User, store.UserSession) {
	sess, err := s.session(r.Context(), r)
	if err != nil {
		if !errors.Is(err, errNoSession) {
			s.opts.Logger.ErrorContext(r.Context(), "session lookup", "error", err)
		}
		return nil, sess
	}
	u, err := s.opts.Store.UserGetByID(r.Context(), sess.UserID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.opts.Logger.ErrorContext(r.Context(), "session user", "error", err)
		}
		return nil, sess
	}
	return &u, sess
}

// signedIn sends a visitor without a session to sign in first.
func (s *Site) signedIn(next func(http.ResponseWriter, *http.Request, *store.User, store.UserSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, sess := s.currentUser(r)
		if u == nil {
			if r.Method != http.MethodGet {
				s.fail(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again.")
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next(w, r, u, sess)
	}
}

// ipOf is the client's address for a row, nil when unknown.
func (s *Site) ipOf(r *http.Request) *netip.Addr {
	if a := s.clientIP(r); a.IsValid() {
		return &a
	}
	return nil
}

func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return strings.ToValidUTF8(ua, "")
}
