package access

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"pnwbot/audit"
	"pnwbot/secrets"
	"pnwbot/store"
)

// CreateAccount makes the account of a Discord user on first contact,
// audited (user.create), and returns it. When a concurrent first contact
// made it meanwhile, it returns that account and audits nothing more.
func (c Changes) CreateAccount(ctx context.Context, discordID, username string) (store.User, error) {
	var u store.User
	err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		var err error
		u, err = q.UserCreate(ctx, store.UserCreateParams{DiscordID: discordID, DiscordUsername: username, KeySalt: secrets.NewSalt()})
		return audit.Entry{User: &u.ID, Action: "user.create", Resource: "user", ResourceID: strconv.FormatInt(u.ID, 10)}, err
	})
	if errors.Is(err, store.ErrNotFound) { // UserCreate found the Discord id taken
		if u, err = c.Log.Store.UserGetByDiscordID(ctx, discordID); err != nil {
			return u, fmt.Errorf("load user: %w", err)
		}
		return u, nil
	} else if err != nil {
		return u, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}
