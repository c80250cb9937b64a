package bot

import (
	"context"
	"time"

	"github.com/bwmarrin/discordgo"
)

// replayWindow is how long an interaction id is remembered. A signed request
// is accepted while its timestamp is within maxClockSkew of now, on either
// side, so a capture stays acceptable for up to twice that after it is first
// seen.
const replayWindow = 2 * maxClockSkew

// replayTimeout bounds the check, which runs before Discord's 3 s window
// gets its first answer.
const replayTimeout = 500 * time.Millisecond

// InteractionLog remembers the ids of the interactions the bot has handled.
// store/kv implements it in Redis and in PostgreSQL.
type InteractionLog interface {
	// Claim records id for window and reports whether it was new: false
	// while an earlier claim of id has not expired.
	Claim(ctx context.Context, id string, window time.Duration) (bool, error)
}

// firstTime reports whether the bot should handle interaction i: false for
// a repeat of one it has handled. When the log cannot be reached it lets i
// through, with a warning: a replay that matters needs the database anyway.
func (b *Bot) firstTime(ctx context.Context, i *discordgo.Interaction) bool {
	if b.opts.Replays == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	ok, err := b.opts.Replays.Claim(ctx, i.ID, replayWindow)
	if err != nil {
		b.logger.WarnContext(ctx, "replay check failed, allowing", "interaction_id", i.ID, "error", err)
		return true
	}
	if !ok {
		b.logger.WarnContext(ctx, "replayed interaction refused", "interaction_id", i.ID, "type", interactionType(i.Type))
	}
	return ok
}
