package roles

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"pnwbot/pnw"
	"pnwbot/store"
)

// PlatformName is what Discord shows beside a user's role connection.
const PlatformName = "Politics and War"

// Connection is what a user's role connection says: the body of Discord's
// user role-connection write.
type Connection struct {
	PlatformName     string            `json:"platform_name"`
	PlatformUsername string            `json:"platform_username"`
	Metadata         map[string]string `json:"metadata"`
}

// Writer writes a role connection at Discord with the user's grant (the
// web side holds the OAuth2 client). It may drop a grant Discord no longer
// honours.
type Writer interface {
	WriteRoleConnection(ctx context.Context, grant store.RoleConnection, salt []byte, body []byte) error
}

// LinkedOptions are what Linked works with.
type LinkedOptions struct {
	Store  *store.Store
	Game   *pnw.Client
	Writer Writer
	Logger *slog.Logger
}

// Linked keeps users' Linked Roles connections in step with their nation.
type Linked struct {
	store  *store.Store
	game   *pnw.Client
	writer Writer
	logger *slog.Logger
}

// NewLinked returns Linked working with o.
func NewLinked(o LinkedOptions) *Linked {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Linked{store: o.Store, game: o.Game, writer: o.Writer, logger: o.Logger}
}

// SyncRoleConnection writes the user's role connection as their nation is
// now: verified, alliance, cities and score, or not verified once
// unlinked; nothing when it says that already. A user who never opened
// /linked-role has none to write. /link and /unlink call it;
// RefreshRoleConnections calls it for everyone.
func (l *Linked) SyncRoleConnection(ctx context.Context, userID int64) error {
	row, err := l.store.RoleConnectionGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("role connection: %w", err)
	}
	c, err := l.connectionOf(ctx, row.PnwNationID)
	if err != nil {
		return err
	}
	return l.push(ctx, row.RoleConnection, row.KeySalt, c)
}

// push writes the connection unless it is what was last pushed.
func (l *Linked) push(ctx context.Context, rc store.RoleConnection, salt []byte, c Connection) error {
	b, _ := json.Marshal(c)
	if bytes.Equal(b, rc.Pushed) {
		return nil
	}
	if err := l.writer.WriteRoleConnection(ctx, rc, salt, b); err != nil {
		return err
	}
	return l.store.RoleConnectionSetPushed(ctx, store.RoleConnectionSetPushedParams{UserID: rc.UserID, Pushed: b})
}

// SyncAlliance brings the role connections that speak of an alliance in
// step with its member list as the role-sync pass just read it: a nation
// whose membership changed (an applicant accepted, a member turned back
// into an applicant) gets a fresh connection, and one that left the
// alliance is read again from the game and loses its alliance_id, without
// waiting for the periodic refresh. It returns how many it pushed.
func (l *Linked) SyncAlliance(ctx context.Context, allianceID int64, members []pnw.Nation) (int, error) {
	byID := make(map[int64]pnw.Nation, len(members))
	ids := make([]int64, 0, len(members))
	for _, n := range members {
		if id, err := strconv.ParseInt(n.Id, 10, 64); err == nil {
			byID[id], ids = n, append(ids, id)
		}
	}
	rows, err := l.store.RoleConnectionListForAlliance(ctx, store.RoleConnectionListForAllianceParams{
		AllianceID: strconv.FormatInt(allianceID, 10), NationIds: ids})
	if err != nil {
		return 0, fmt.Errorf("role connections: %w", err)
	}
	pushed := 0
	for _, row := range rows {
		var last Connection
		_ = json.Unmarshal(row.RoleConnection.Pushed, &last) // nil or what push wrote
		var c Connection
		var n pnw.Nation
		in := false
		if row.PnwNationID != nil {
			n, in = byID[*row.PnwNationID]
		}
		switch {
		case in:
			c = connectionFrom(n)
		case row.PnwNationID == nil:
			c = connectionFrom(pnw.Nation{}) // unlinked meanwhile
		default:
			// Gone from the member list: ask the game where it is now.
			if err := l.game.InvalidateTag(ctx, pnw.NationTag(int(*row.PnwNationID))); err != nil {
				l.logger.WarnContext(ctx, "role connection: drop the cached nation", "user_id", row.RoleConnection.UserID, "error", err)
			}
			if c, err = l.connectionOf(ctx, row.PnwNationID); err != nil {
				l.logger.WarnContext(ctx, "role connection of a nation that left", "user_id", row.RoleConnection.UserID, "error", err)
				continue
			}
		}
		if c.Metadata["alliance_id"] == last.Metadata["alliance_id"] && c.Metadata["verified"] == last.Metadata["verified"] {
			continue // membership unchanged: the periodic refresh updates cities and score
		}
		if err := l.push(ctx, row.RoleConnection, row.KeySalt, c); err != nil {
			if ctx.Err() != nil {
				return pushed, ctx.Err()
			}
			l.logger.WarnContext(ctx, "role connection", "user_id", row.RoleConnection.UserID, "error", err)
			continue
		}
		pushed++
	}
	return pushed, nil
}

// ForgetRoleConnection empties the user's role connection at Discord and
// drops their grant: /delete-account calls it before the account goes.
func (l *Linked) ForgetRoleConnection(ctx context.Context, userID int64) error {
	row, err := l.store.RoleConnectionGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("role connection: %w", err)
	}
	b, _ := json.Marshal(Connection{PlatformName: PlatformName, Metadata: map[string]string{}})
	if err := l.writer.WriteRoleConnection(ctx, row.RoleConnection, row.KeySalt, b); err != nil {
		return err
	}
	_, err = l.store.RoleConnectionDelete(ctx, userID)
	return err
}

// RefreshRoleConnections rewrites every stored role connection whose
// nation changed (alliance, cities, score), a page of users at a time, and
// returns how many it checked. One user's failure is logged and the pass
// goes on; it runs periodically.
func (l *Linked) RefreshRoleConnections(ctx context.Context) (int, error) {
	var after int64
	n := 0
	for {
		ids, err := l.store.RoleConnectionListUsers(ctx, store.RoleConnectionListUsersParams{AfterUserID: after, RowLimit: 100})
		if err != nil {
			return n, fmt.Errorf("role connections: %w", err)
		}
		for _, id := range ids {
			if err := l.SyncRoleConnection(ctx, id); err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				l.logger.WarnContext(ctx, "refresh role connection", "user_id", id, "error", err)
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
func (l *Linked) connectionOf(ctx context.Context, nationID *int64) (Connection, error) {
	if nationID == nil {
		return connectionFrom(pnw.Nation{}), nil
	}
	r, err := l.game.Nation(ctx, int(*nationID))
	if err != nil {
		return Connection{}, fmt.Errorf("nation %d: %w", *nationID, err)
	}
	return connectionFrom(r.Data), nil
}

// connectionFrom is the role connection of a linked nation (the zero
// Nation: none linked). alliance_id is reported for positions above
// applicant only: applying in the game makes no one a member, so a role
// that requires the alliance is not met by applying.
func connectionFrom(n pnw.Nation) Connection {
	if n.Id == "" {
		return Connection{PlatformName: PlatformName, Metadata: map[string]string{"verified": "0"}}
	}
	c := Connection{PlatformName: PlatformName, PlatformUsername: n.NationName, Metadata: map[string]string{
		"verified": "1", "cities": strconv.Itoa(n.NumCities), "score": strconv.Itoa(int(n.Score)),
	}}
	if n.AlliancePosition.IsMember() && n.AllianceId != "" && n.AllianceId != "0" {
		c.Metadata["alliance_id"] = n.AllianceId
	}
	return c
}
