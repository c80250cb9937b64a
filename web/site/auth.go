package site

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/oauth2"

	"pnwbot/audit"
	"pnwbot/secrets"
	"pnwbot/store"
)

const (
	oauthCookie = "pnwbot_oauth"
	// oauthCookieAge bounds the time between /login and the callback.
	oauthCookieAge = 600
	flowLogin      = "login"
	flowRole       = "role" // /linked-role: also writes the role connection
)

var scopes = map[string][]string{
	flowLogin: {"identify"},
	flowRole:  {"identify", "role_connections.write"},
}

func (s *Site) login(w http.ResponseWriter, r *http.Request) {
	s.startOAuth(w, r, flowLogin, localPath(r.URL.Query().Get("next")))
}

func (s *Site) linkedRole(w http.ResponseWriter, r *http.Request) {
	s.startOAuth(w, r, flowRole, "")
}

// localPath keeps next only when it is a path of this site, so that a
// crafted /login link cannot send the browser elsewhere after sign-in.
func localPath(next string) string {
	// Browsers drop tabs and newlines from a URL and read \ as /, so
	// "/\t/host" or "/\\host" would leave the site: refuse them all.
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') ||
		strings.IndexFunc(next, unicode.IsControl) >= 0 {
		return ""
	}
	return next
}

// startOAuth sends the browser to Discord with a fresh state and PKCE
// verifier, both kept in a short-lived HttpOnly cookie that binds the
// callback to this browser.
func (s *Site) startOAuth(w http.ResponseWriter, r *http.Request, flow, next string) {
	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{
		Name:  s.cookie(oauthCookie),
		Value: strings.Join([]string{flow, state, verifier, base64.RawURLEncoding.EncodeToString([]byte(next))}, "."),
		Path:  "/", MaxAge: oauthCookieAge, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, s.opts.OAuth.config(scopes[flow]...).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// callback finishes the sign-in: the state must match this browser's
// cookie, the code must be fresh (Discord refuses a used one); then the
// user is found or created and a session starts.
func (s *Site) callback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie(oauthCookie), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	// Anyone can call this: each refusal is counted, and audited at most
	// once a minute per address.
	refuse := func(status int, reason, text string) {
		s.metrics.refused.WithLabelValues(strings.ReplaceAll(reason, " ", "_")).Inc()
		s.auditOnce(r, "ip:"+s.clientIP(r).String()+":login_refused", audit.Entry{Action: "auth.login_refused", Resource: "session", Failed: true,
			New: map[string]any{"reason": reason}})
		s.fail(w, r, status, "Sign-in failed", text+" Sign in again.")
	}
	c, err := r.Cookie(s.cookie(oauthCookie))
	if err != nil {
		refuse(http.StatusBadRequest, "no state cookie", "This sign-in was started in another browser, or took more than ten minutes.")
		return
	}
	parts := strings.Split(c.Value, ".")
	next, nextErr := []byte(nil), error(nil)
	if len(parts) == 4 {
		next, nextErr = base64.RawURLEncoding.DecodeString(parts[3])
	}
	q := r.URL.Query()
	switch {
	case len(parts) != 4 || scopes[parts[0]] == nil || nextErr != nil:
		refuse(http.StatusBadRequest, "malformed state cookie", "This sign-in could not be read.")
		return
	case q.Get("error") != "":
		refuse(http.StatusForbidden, "refused at Discord", "Discord did not sign you in (the authorization was cancelled).")
		return
	case subtle.ConstantTimeCompare([]byte(parts[1]), []byte(q.Get("state"))) != 1:
		refuse(http.StatusBadRequest, "state mismatch", "This sign-in link does not belong to this browser's sign-in.")
		return
	}
	flow := parts[0]
	ctx := r.Context()
	tok, err := s.opts.OAuth.exchange(ctx, q.Get("code"), parts[2])
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		refuse(http.StatusBadRequest, "code refused", "This sign-in code was already used or has expired.")
		return
	} else if err != nil {
		s.discordDown(w, r, fmt.Errorf("token exchange: %w", err))
		return
	}
	du, err := s.opts.OAuth.discordUser(ctx, tok)
	if err != nil {
		s.discordDown(w, r, err)
		return
	}
	u, token, err := s.signIn(ctx, r, du, flow)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.setSessionCookie(w, token)
	if flow == flowRole {
		if err := s.connectRole(ctx, u, tok); err != nil {
			s.opts.Logger.ErrorContext(ctx, "linked role", "user_id", u.ID, "error", err)
			s.fail(w, r, http.StatusBadGateway, "Linked Roles", "You are signed in, but Discord did not take your role connection. Try again in a moment.")
			return
		}
		s.render(w, r, http.StatusOK, "linked", page{Title: "Linked Roles", User: &u, Data: u.PnwNationID != nil})
		return
	}
	// The cookie is ours, but checked again as if it were not.
	http.Redirect(w, r, cmp.Or(localPath(string(next)), "/me"), http.StatusSeeOther)
}

func (s *Site) discordDown(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.ErrorContext(r.Context(), "Discord OAuth2", "error", err)
	s.fail(w, r, http.StatusBadGateway, "Sign-in failed", "Discord did not answer as expected. Try again in a moment.")
}

// signIn finds or creates the user, records the login and starts a
// session, all in one transaction with its audit row.
func (s *Site) signIn(ctx context.Context, r *http.Request, du discordAccount, flow string) (store.User, string, error) {
	var u store.User
	var token string
	old := s.tokenHash(r)
	err := s.opts.Store.InTx(ctx, func(q *store.Queries) error {
		var err error
		if u, err = q.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{
			DiscordID: du.ID, DiscordUsername: du.Username, KeySalt: secrets.NewSalt()}); err != nil {
			return fmt.Errorf("user: %w", err)
		}
		if err := q.UserSetLastLogin(ctx, store.UserSetLastLoginParams{ID: u.ID, Now: s.opts.Now()}); err != nil {
			return fmt.Errorf("last login: %w", err)
		}
		// Signing in again replaces this browser's session: the old token,
		// wherever it was copied, no longer counts.
		if old != nil {
			if _, err := q.UserSessionRevoke(ctx, old); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("revoke previous session: %w", err)
			}
		}
		if token, err = s.newSession(ctx, q, u.ID, r); err != nil {
			return err
		}
		err = audit.Write(ctx, q, s.audited(r, audit.Entry{User: &u.ID, Action: "auth.login", Resource: "session", New: map[string]any{"flow": flow}}))
		return err
	})
	if err == nil && old != nil {
		s.forget(ctx, old)
	}
	return u, token, err
}

// logout ends this browser's session.
func (s *Site) logout(w http.ResponseWriter, r *http.Request) {
	if hash := s.tokenHash(r); hash != nil {
		err := s.opts.Store.InTx(r.Context(), func(q *store.Queries) error {
			sess, err := q.UserSessionRevoke(r.Context(), hash)
			if err != nil {
				return err
			}
			err = audit.Write(r.Context(), q, s.audited(r, audit.Entry{User: &sess.UserID, Action: "auth.logout", Resource: "session", ResourceID: strconv.FormatInt(sess.ID, 10)}))
			return err
		})
		if err == nil {
			s.forget(r.Context(), hash)
		} else if !errors.Is(err, store.ErrNotFound) {
			s.internal(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signOutEverywhere revokes every session of the user, this one included.
func (s *Site) signOutEverywhere(w http.ResponseWriter, r *http.Request, u *store.User, _ store.UserSession) {
	var hashes [][]byte
	err := s.opts.Store.InTx(r.Context(), func(q *store.Queries) error {
		var err error
		if hashes, err = q.UserSessionRevokeAllForUser(r.Context(), u.ID); err != nil {
			return err
		}
		err = audit.Write(r.Context(), q, s.audited(r, audit.Entry{User: &u.ID, Action: "auth.sessions_revoked", Resource: "session",
			New: map[string]any{"sessions": len(hashes)}}))
		return err
	})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.forget(r.Context(), hashes...)
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// audited completes an audit entry of the web side with the browser's
// address and user agent.
func (s *Site) audited(r *http.Request, e audit.Entry) audit.Entry {
	e.IP, e.UserAgent = s.ipOf(r), userAgent(r)
	return e
}

// audit records a refusal; a failed write is logged, the refusal stands.
func (s *Site) audit(r *http.Request, e audit.Entry) {
	audit.Log{Store: s.opts.Store, Logger: s.opts.Logger}.Record(r.Context(), s.audited(r, e))
}
