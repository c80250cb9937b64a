package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/oauth2"

	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

// PlatformName is what Discord shows beside a user's role connection.
const PlatformName = "Politics and War"

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

// roleConnection is the body of Discord's user role-connection write.
type roleConnection struct {
	PlatformName     string            `json:"platform_name"`
	PlatformUsername string            `json:"platform_username"`
	Metadata         map[string]string `json:"metadata"`
}

// connectRole keeps the user's grant (sealed) and writes their role
// connection.
func (s *Site) connectRole(ctx context.Context, u store.User, tok *oauth2.Token) error {
	if err := s.saveGrant(ctx, u.ID, u.KeySalt, tok); err != nil {
		return err
	}
	return s.SyncRoleConnection(ctx, u.ID)
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

// SyncRoleConnection writes the user's role connection as their nation is
// now: verified, alliance, cities and score, or not verified once unlinked.
// A user who never opened /linked-role has none to write. The commands call
// it on /link and /unlink; RefreshRoleConnections for everyone.
func (s *Site) SyncRoleConnection(ctx context.Context, userID int64) error {
	row, err := s.opts.Store.RoleConnectionGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("role connection: %w", err)
	}
	body, err := s.connectionOf(ctx, row.PnwNationID)
	if err != nil {
		return err
	}
	return s.push(ctx, row.RoleConnection, row.KeySalt, body)
}

// push writes the connection unless it is what was last pushed.
func (s *Site) push(ctx context.Context, rc store.RoleConnection, salt []byte, c roleConnection) error {
	b, _ := json.Marshal(c)
	if bytes.Equal(b, rc.Pushed) {
		return nil
	}
	if err := s.putConnection(ctx, rc, salt, b); err != nil {
		return err
	}
	return s.opts.Store.RoleConnectionSetPushed(ctx, store.RoleConnectionSetPushedParams{UserID: rc.UserID, Pushed: b})
}

// SyncAlliance brings the role connections that speak of an alliance in
// step with its member list as the role-sync pass just read it: a nation
// whose membership changed (an applicant accepted, a member turned back
// into an applicant) gets a fresh connection, and one that left the
// alliance is read again from the game and loses its alliance_id, without
// waiting for the periodic refresh. It returns how many it pushed.
func (s *Site) SyncAlliance(ctx context.Context, allianceID int64, members []pnw.Nation) (int, error) {
	byID := make(map[int64]pnw.Nation, len(members))
	ids := make([]int64, 0, len(members))
	for _, n := range members {
		if id, err := strconv.ParseInt(n.Id, 10, 64); err == nil {
			byID[id], ids = n, append(ids, id)
		}
	}
	rows, err := s.opts.Store.RoleConnectionListForAlliance(ctx, store.RoleConnectionListForAllianceParams{
		AllianceID: strconv.FormatInt(allianceID, 10), NationIds: ids})
	if err != nil {
		return 0, fmt.Errorf("role connections: %w", err)
	}
	pushed := 0
	for _, row := range rows {
		var last roleConnection
		_ = json.Unmarshal(row.RoleConnection.Pushed, &last) // nil or what push wrote
		var c roleConnection
		n, in := byID[derefID(row.PnwNationID)]
		switch {
		case in:
			c = connectionFrom(n)
		case row.PnwNationID == nil:
			c = connectionFrom(pnw.Nation{}) // unlinked meanwhile
		default:
			// Gone from the member list: ask the game where it is now.
			if err := s.opts.Game.InvalidateTag(ctx, pnw.NationTag(int(*row.PnwNationID))); err != nil {
				s.opts.Logger.WarnContext(ctx, "role connection: drop the cached nation", "user_id", row.RoleConnection.UserID, "error", err)
			}
			if c, err = s.connectionOf(ctx, row.PnwNationID); err != nil {
				s.opts.Logger.WarnContext(ctx, "role connection of a nation that left", "user_id", row.RoleConnection.UserID, "error", err)
				continue
			}
		}
		if c.Metadata["alliance_id"] == last.Metadata["alliance_id"] && c.Metadata["verified"] == last.Metadata["verified"] {
			continue // membership unchanged: the periodic refresh updates cities and score
		}
		if err := s.push(ctx, row.RoleConnection, row.KeySalt, c); err != nil {
			if ctx.Err() != nil {
				return pushed, ctx.Err()
			}
			s.opts.Logger.WarnContext(ctx, "role connection", "user_id", row.RoleConnection.UserID, "error", err)
			continue
		}
		pushed++
	}
	return pushed, nil
}

func derefID(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// ForgetRoleConnection empties the user's role connection at Discord and
// drops their grant: /delete-account calls it before the account goes.
func (s *Site) ForgetRoleConnection(ctx context.Context, userID int64) error {
	row, err := s.opts.Store.RoleConnectionGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("role connection: %w", err)
	}
	b, _ := json.Marshal(roleConnection{PlatformName: PlatformName, Metadata: map[string]string{}})
	if err := s.putConnection(ctx, row.RoleConnection, row.KeySalt, b); err != nil {
		return err
	}
	_, err = s.opts.Store.RoleConnectionDelete(ctx, userID)
	return err
}

// RefreshRoleConnections rewrites every stored role connection whose nation
// changed (alliance, cities, score), a page of users at a time, and returns
// how many it checked. One user's failure is logged and the pass goes on;
// it is meant to run periodically.
func (s *Site) RefreshRoleConnections(ctx context.Context) (int, error) {
	var after int64
	n := 0
	for {
		ids, err := s.opts.Store.RoleConnectionListUsers(ctx, store.RoleConnectionListUsersParams{AfterUserID: after, RowLimit: 100})
		if err != nil {
			return n, fmt.Errorf("role connections: %w", err)
		}
		for _, id := range ids {
			if err := s.SyncRoleConnection(ctx, id); err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				s.opts.Logger.WarnContext(ctx, "refresh role connection", "user_id", id, "error", err)
			}
			n++
			after = id
		}
		if len(ids) < 100 {
			return n, nil
		}
	}
}

// connectionOf is the role connection of a nation (nil: not linked).
func (s *Site) connectionOf(ctx context.Context, nationID *int64) (roleConnection, error) {
	if nationID == nil {
		return connectionFrom(pnw.Nation{}), nil
	}
	r, err := s.opts.Game.Nation(ctx, int(*nationID))
	if err != nil {
		return roleConnection{}, fmt.Errorf("nation %d: %w", *nationID, err)
	}
	return connectionFrom(r.Data), nil
}

// connectionFrom is the role connection of a linked nation (the zero
// Nation: none linked). alliance_id is reported for positions above
// applicant only: applying in the game makes no one a member, so a role
// that requires the alliance is not met by applying.
func connectionFrom(n pnw.Nation) roleConnection {
	if n.Id == "" {
		return roleConnection{PlatformName: PlatformName, Metadata: map[string]string{"verified": "0"}}
	}
	c := roleConnection{PlatformName: PlatformName, PlatformUsername: n.NationName, Metadata: map[string]string{
		"verified": "1", "cities": strconv.Itoa(n.NumCities), "score": strconv.Itoa(int(n.Score)),
	}}
	switch n.AlliancePosition {
	case pnw.AlliancePositionEnumMEMBER, pnw.AlliancePositionEnumOFFICER, pnw.AlliancePositionEnumHEIR, pnw.AlliancePositionEnumLEADER:
		if n.AllianceId != "" && n.AllianceId != "0" {
			c.Metadata["alliance_id"] = n.AllianceId
		}
	}
	return c
}

// putConnection writes body with the user's grant, refreshing its access
// token when it expired. A grant Discord no longer honours (the user
// removed the app) is dropped.
func (s *Site) putConnection(ctx context.Context, rc store.RoleConnection, salt []byte, body []byte) error {
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
