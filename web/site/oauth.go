package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"pnwbot/secrets"
	"pnwbot/store"
)

// OAuthOptions configure the OAuth2 client.
type OAuthOptions struct {
	Store *store.Store
	Keys  *secrets.Keyring // seals the grants at rest
	// DiscordURL is DISCORD_API_URL: the browser is sent to its
	// /oauth2/authorize, and the token and API calls go to it too.
	DiscordURL string
	// ClientID is the application's id, ClientSecret its OAuth2 secret.
	ClientID     string
	ClientSecret string
	// PublicURL is where browsers reach the site: the redirect URI starts
	// with it.
	PublicURL string
	Logger    *slog.Logger
}

// OAuth is the web side's OAuth2 client at Discord: it signs users in and
// writes each user's Linked Roles connection with the grant they gave
// (roles.Writer). pnwbot builds it before roles.Linked, which writes with
// it, and before the Site, which signs users in with it.
type OAuth struct {
	o      OAuthOptions
	client *http.Client // for Discord's token and API endpoints
}

// NewOAuth checks o.
func NewOAuth(o OAuthOptions) (*OAuth, error) {
	if u, err := url.Parse(o.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("site: public URL %q is not an http(s) URL", o.PublicURL)
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return nil, errors.New("site: no OAuth2 client id or secret")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	o.DiscordURL = strings.TrimRight(o.DiscordURL, "/")
	return &OAuth{o: o, client: &http.Client{Timeout: 15 * time.Second}}, nil
}

// config is the OAuth2 client's configuration; scopes are per flow.
func (c *OAuth) config(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.o.ClientID, ClientSecret: c.o.ClientSecret, Scopes: scopes,
		RedirectURL: c.o.PublicURL + "/oauth/callback",
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.o.DiscordURL + "/oauth2/authorize",
			TokenURL:  c.o.DiscordURL + "/api/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

// exchange trades a sign-in code (with its PKCE verifier) for a token.
func (c *OAuth) exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	return c.config().Exchange(ctx, code, oauth2.VerifierOption(verifier))
}

// discordAccount is the part of Discord's user object the site uses.
type discordAccount struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

// discordUser reads /users/@me with the user's access token.
func (c *OAuth) discordUser(ctx context.Context, tok *oauth2.Token) (discordAccount, error) {
	var du discordAccount
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.o.DiscordURL+"/api/v10/users/@me", nil)
	if err != nil {
		return du, err
	}
	tok.SetAuthHeader(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return du, fmt.Errorf("users/@me: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return du, fmt.Errorf("users/@me: Discord answered %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&du); err != nil || !snowflake.MatchString(du.ID) {
		return du, fmt.Errorf("users/@me: unexpected answer (%v)", err)
	}
	return du, nil
}

// saveGrant keeps the user's Linked Roles grant, sealed.
func (c *OAuth) saveGrant(ctx context.Context, userID int64, salt []byte, tok *oauth2.Token) error {
	access, err := c.o.Keys.Seal(tok.AccessToken, salt, secrets.DiscordGrant(userID))
	if err != nil {
		return err
	}
	refresh, err := c.o.Keys.Seal(tok.RefreshToken, salt, secrets.DiscordGrant(userID))
	if err != nil {
		return err
	}
	_, err = c.o.Store.RoleConnectionUpsert(ctx, store.RoleConnectionUpsertParams{
		UserID: userID, AccessToken: access, RefreshToken: refresh, TokenExpiresAt: tok.Expiry})
	if err != nil {
		return fmt.Errorf("save role grant: %w", err)
	}
	return nil
}

// WriteRoleConnection writes body with the user's grant, refreshing its
// access token when it expired: roles.Writer. A grant Discord no longer
// honours (the user removed the app) is dropped.
func (c *OAuth) WriteRoleConnection(ctx context.Context, rc store.RoleConnection, salt []byte, body []byte) error {
	access, err := c.o.Keys.Open(rc.AccessToken, salt, secrets.DiscordGrant(rc.UserID))
	if err != nil {
		return fmt.Errorf("open role grant: %w", err)
	}
	refresh, err := c.o.Keys.Open(rc.RefreshToken, salt, secrets.DiscordGrant(rc.UserID))
	if err != nil {
		return fmt.Errorf("open role grant: %w", err)
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	old := &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: rc.TokenExpiresAt, TokenType: "Bearer"}
	tok, err := c.config().TokenSource(ctx, old).Token()
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		return c.dropGrant(ctx, rc.UserID, "refresh refused")
	} else if err != nil {
		return fmt.Errorf("refresh role grant: %w", err)
	}
	if tok.AccessToken != access {
		if err := c.saveGrant(ctx, rc.UserID, salt, tok); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut,
		c.o.DiscordURL+"/api/v10/users/@me/applications/"+c.o.ClientID+"/role-connection", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	tok.SetAuthHeader(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("write role connection: %w", err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return c.dropGrant(ctx, rc.UserID, "access refused")
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("write role connection: Discord answered %s", resp.Status)
	}
	return nil
}

// dropGrant forgets a grant Discord refuses: the user opens /linked-role
// again to connect.
func (c *OAuth) dropGrant(ctx context.Context, userID int64, why string) error {
	c.o.Logger.InfoContext(ctx, "Discord refused a Linked Roles grant; dropped", "user_id", userID, "reason", why)
	_, err := c.o.Store.RoleConnectionDelete(ctx, userID)
	return err
}
