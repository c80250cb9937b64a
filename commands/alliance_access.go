package commands

import (
	"context"
	"errors"
	"fmt"

	"pnwbot/bot"
	"pnwbot/store"
)

var (
	errNotInServer = bot.UserError("Use this command in your alliance's Discord server.")
	errNoAlliance  = bot.UserError("This server has no alliance yet: the alliance's leader or heir can bind it with /alliance setup.")
)

// serverAlliance is the alliance bound to the server the command came from.
func (d *Deps) serverAlliance(ctx context.Context, req *bot.Request) (store.Alliance, error) {
	if req.GuildID == "" {
		return store.Alliance{}, errNotInServer
	}
	a, err := d.Store.AllianceGetByGuild(ctx, &req.GuildID)
	if errors.Is(err, store.ErrNotFound) {
		return a, errNoAlliance
	} else if err != nil {
		return a, fmt.Errorf("server alliance: %w", err)
	}
	return a, nil
}
