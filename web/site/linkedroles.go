package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/oauth2"

	"pnwbot/roles"
	"pnwbot/secrets"
	"pnwbot/store"
)

// RoleMetadata are the Linked Roles records a server's roles can require,
// registered at start with the bot token.
var RoleMetadata = []*discordgo.ApplicationRoleConnectionMetadata{
	{Type: discordgo.ApplicationRoleConnectionMetadataBooleanEqual, Key: "verified",
		Name: "Verified nation", Description: "Linked a Politics and War nation with its own API key"},
	{Type: discordgo.ApplicationRoleConnectionMetadataIntegerEqual, Key: "alliance_id",
		Name: "Alliance id", Description: "The game id of the nation's alliance"},
	{Type: discordgo.ApplicationRoleConnectionMetadataIntegerGreaterThanOrEqual, Key: "cities",
		Name: "Cities", Description: "At least this many cities"},
	{Type: discordgo.ApplicationRoleConnectionMetadataIntegerGreaterThanOrEqual, Key: "score",
		Name: "Score", Description: "At least this nation score"},
}

// connectRole keeps the user's grant (sealed) and writes their role
// connection.
func (s *Site) connectRole(ctx context.Context, u store.User, tok *oauth2.Token) error {
	if err := s.saveGrant(ctx, u.ID, u.KeySalt, tok); err != nil {
		return err
	}
	return s.linked.SyncRoleConnection(ctx, u.ID)
}

func (s *Site) saveGrant(ctx context.Context, userID int64, salt []byte, tok *oauth2.Token) error {
	access, err := s.opts.Keys.Seal(tok.AccessToken, salt, secrets.DiscordGrant(userID))
	if err != nil {
		return err
	}
	refresh, err := s.opts.Keys.Seal(tok.RefreshToken, salt, secrets.DiscordGrant(userID))
	if err != nil {
		return err
	}
	_, err = s.opts.Store.RoleConnectionUpsert(ctx, store.RoleConnectionUpsertParams{
		UserID: userID, AccessToken: access, RefreshToken: refresh, TokenExpiresAt: tok.Expiry})
	if err != nil {
		return fmt.Errorf("save role grant: %w", err)
	}
	return nil
}

// LinkedRoles keeps users' role connections in step with their nation
// (package roles), writing them with the grants this side holds.
func (s *Site) LinkedRoles() *roles.Linked { return s.linked }

// WriteRoleConnection writes body with the user's grant, refreshing its
// access token when it expired: roles.Writer. A grant Discord no longer
// honours (the user removed the app) is dropped.
func (s *Site) WriteRoleConnection(ctx context.Context, rc store.RoleConnection, salt []byte, body []byte) error {
	access, err := s.opts.Keys.Open(rc.AccessToken, salt, secrets.DiscordGrant(rc.UserID))
	if err != nil {
		return fmt.Errorf("open role grant: %w", err)
	}
	refresh, err := s.opts.Keys.Open(rc.RefreshToken, salt, secrets.DiscordGrant(rc.UserID))
	if err != nil {
		return fmt.Errorf("open role grant: %w", err)
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	old := &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: rc.TokenExpiresAt, TokenType: "Bearer"}
	tok, err := s.oauth().TokenSource(ctx, old).Token()
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		return s.dropGrant(ctx, rc.UserID, "refresh refused")
	} else if err != nil {
		return fmt.Errorf("refresh role grant: %w", err)
	}
	if tok.AccessToken != access {
		if err := s.saveGrant(ctx, rc.UserID, salt, tok); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut,
		s.opts.DiscordURL+"/api/v10/users/@me/applications/"+s.opts.ClientID+"/role-connection", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	tok.SetAuthHeader(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("write role connection: %w", err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return s.dropGrant(ctx, rc.UserID, "access refused")
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("write role connection: Discord answered %s", resp.Status)
	}
	return nil
}

// dropGrant forgets a grant Discord refuses: the user opens /linked-role
// again to connect.
func (s *Site) dropGrant(ctx context.Context, userID int64, why string) error {
	s.opts.Logger.InfoContext(ctx, "Discord refused a Linked Roles grant; dropped", "user_id", userID, "reason", why)
	_, err := s.opts.Store.RoleConnectionDelete(ctx, userID)
	return err
}
