package kv

import (
	"context"
	"errors"

	"pnwbot/store"
)

// commandsLock names the advisory lock replicas take to register commands.
const commandsLock = 7265432

// commandsKey is the app_config row holding the digest of the commands
// registered last.
const commandsKey = "discord.commands_registered"

// RegisterOnce is bot.Options.RegisterOnce over PostgreSQL: replicas take
// turns under an advisory lock, and the first to find the digest new
// registers and records it; the others, and later starts, find it recorded.
// Deleting the app_config row makes the next start register again.
func RegisterOnce(st *store.Store) func(ctx context.Context, digest string, register func(context.Context) error) (bool, error) {
	return func(ctx context.Context, digest string, register func(context.Context) error) (registered bool, err error) {
		err = st.InTx(ctx, func(q *store.Queries) error {
			if err := q.AdvisoryXactLock(ctx, commandsLock); err != nil {
				return err
			}
			switch c, err := q.AppConfigGet(ctx, commandsKey); {
			case err == nil && c.Value == digest:
				return nil
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return err
			}
			if err := register(ctx); err != nil {
				return err
			}
			registered = true
			_, err := q.AppConfigSet(ctx, store.AppConfigSetParams{Key: commandsKey, Value: digest, Category: "internal", DataType: "string",
				Description: "Digest of the slash commands last registered with Discord; delete this row to register them again at the next start."})
			return err
		})
		return registered, err
	}
}
