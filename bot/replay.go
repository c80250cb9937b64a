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

// Admitter is an InteractionLog and a Limiter that makes both checks an
// interaction meets first in one step (store/kv's in one Redis round
// trip): Admit claims id as Claim does and, when id was new, counts one
// request for key as Allow does. Its error is the claim's, the limiter's
// answer is in the Verdict.
type Admitter interface {
	InteractionLog
	Limiter
	Admit(ctx context.Context, id string, window time.Duration, key string) (claimed bool, v Verdict, err error)
}

// Verdict is a Limiter's answer for one request, as Allow returns it.
type Verdict struct {
	OK         bool
	RetryAfter time.Duration
	Err        error
}

// admission is what the replay check says of an interaction.
type admission int

const (
	firstSeen  admission = iota // not seen before: handle it
	replayed                    // handled before: drop it
	unanswered                  // neither store answered: see firstTime
)

// notChecked answers a click or a form the replay check could not vouch
// for.
const notChecked = "pnwbot could not check that this was not sent twice (its stores are not answering), so it did nothing. Try again in a moment."

// firstTime reports whether the bot should handle interaction i: replayed
// for a repeat of one it has handled. When the log cannot be reached, a
// slash command or autocomplete goes through, with a warning: they read,
// set a value a repeat sets again, or ask for a confirmation button. A
// button or a form submission, which may change things (send a
// withdrawal, confirm a deletion), is unanswered: handle answers it with
// notChecked and runs nothing. With an Admitter it also counts i against
// its user's rate limit, and returns the verdict for RateLimit.
func (b *Bot) firstTime(ctx context.Context, i *discordgo.Interaction) (admission, *Verdict) {
	if b.opts.Replays == nil {
		return firstSeen, nil
	}
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	var ok bool
	var err error
	var v *Verdict
	if key := limitKey(i); key != "" && b.opts.Admit != nil {
		v = &Verdict{}
		ok, *v, err = b.opts.Admit.Admit(ctx, i.ID, replayWindow, key)
		if v.Err != nil {
			// Not answered within the claim's deadline (PostgreSQL slow
			// without Redis): RateLimit asks again, with the handler's.
			v = nil
		}
	} else {
		ok, err = b.opts.Replays.Claim(ctx, i.ID, replayWindow)
	}
	switch {
	case err != nil && (i.Type == discordgo.InteractionMessageComponent || i.Type == discordgo.InteractionModalSubmit):
		b.logger.WarnContext(ctx, "replay check failed, refusing a click or form", "interaction_id", i.ID, "error", err)
		return unanswered, v
	case err != nil:
		b.logger.WarnContext(ctx, "replay check failed, allowing", "interaction_id", i.ID, "error", err)
		return firstSeen, v
	case !ok:
		b.logger.WarnContext(ctx, "replayed interaction refused", "interaction_id", i.ID, "type", interactionType(i.Type))
		return replayed, v
	}
	return firstSeen, v
}
