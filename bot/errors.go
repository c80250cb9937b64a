package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/bwmarrin/discordgo"
)

// userError is an error meant for the user.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

// UserError returns an error whose text the user sees as is, privately; wrap
// it freely, the bot finds it with errors.As.
func UserError(msg string) error { return &userError{msg: msg} }

// UserErrorf is UserError with formatting.
func UserErrorf(format string, args ...any) error { return UserError(fmt.Sprintf(format, args...)) }

// RateLimitedError denies a request over the per-user rate limit.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("You are sending commands too fast. Try again in %d seconds.",
		int(math.Ceil(e.RetryAfter.Seconds())))
}

// panicError is a recovered panic.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v\n%s", e.value, e.stack) }

// Outcomes, as logged and counted.
const (
	OutcomeOK          = "ok"
	OutcomeUserError   = "user_error"
	OutcomeRateLimited = "rate_limited"
	OutcomeError       = "error"
	OutcomePanic       = "panic"
)

// outcome classifies what a handler returned.
func outcome(err error) string {
	if err == nil {
		return OutcomeOK
	}
	if _, ok := errors.AsType[*RateLimitedError](err); ok {
		return OutcomeRateLimited
	}
	if _, ok := errors.AsType[*userError](err); ok {
		return OutcomeUserError
	}
	if _, ok := errors.AsType[*panicError](err); ok {
		return OutcomePanic
	}
	return OutcomeError
}

// userMessage is the text shown for err: a user error's own text, else a
// friendly message with a reference to find the logged error.
func userMessage(err error, ref string) string {
	if rl, ok := errors.AsType[*RateLimitedError](err); ok {
		return rl.Error()
	}
	if ue, ok := errors.AsType[*userError](err); ok {
		return ue.msg
	}
	return "Something went wrong on our side, sorry. If it keeps happening, tell the bot's admins and quote reference `" + ref + "`."
}

// errorResponse is the one error path: it logs err with the interaction's
// attributes and a reference, and returns the private message to show.
func errorResponse(ctx context.Context, logger *slog.Logger, req *Request, err error) *Response {
	if req.Interaction.Type == discordgo.InteractionApplicationCommandAutocomplete {
		if outcome(err) != OutcomeRateLimited && outcome(err) != OutcomeUserError {
			logger.ErrorContext(ctx, "autocomplete failed", append(attrs(req), slog.Any("error", err))...)
		}
		return Choices()
	}
	var ref string
	switch outcome(err) {
	case OutcomeError, OutcomePanic:
		ref = reference()
		logger.ErrorContext(ctx, "interaction failed", append(attrs(req), slog.String("ref", ref), slog.Any("error", err))...)
	}
	return &Response{Content: userMessage(err, ref), Ephemeral: true}
}

// attrs are the interaction's log attributes: never option values.
func attrs(req *Request) []any {
	a := []any{
		slog.String("interaction_id", req.Interaction.ID),
		slog.String("type", interactionType(req.Interaction.Type)),
		slog.String("route", req.Route),
		slog.String("guild_id", req.GuildID),
	}
	if req.User != nil {
		a = append(a, slog.String("user_id", req.User.ID))
	}
	return a
}

func interactionType(t discordgo.InteractionType) string {
	switch t {
	case discordgo.InteractionApplicationCommand:
		return "command"
	case discordgo.InteractionApplicationCommandAutocomplete:
		return "autocomplete"
	case discordgo.InteractionMessageComponent:
		return "component"
	case discordgo.InteractionModalSubmit:
		return "modal"
	}
	return "other"
}

// reference returns a short random ID that ties a user's report to a log line.
func reference() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
