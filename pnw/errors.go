package pnw

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kinds of failure; test with errors.Is, then errors.As to *Error for details.
var (
	// ErrInvalidKey: the key is unknown or revoked (HTTP 401, or a GraphQL
	// error about the key). Do not retry; tell the key's owner.
	ErrInvalidKey = errors.New("invalid or revoked API key")
	// ErrPermission: the key (or the bot key) lacks a permission, or its
	// nation may not see the data.
	ErrPermission = errors.New("permission missing")
	// ErrRateLimited: the key is out of requests until Error.Reset.
	ErrRateLimited = errors.New("rate limited")
	// ErrGameDown: 5xx, timeout, connection failure, or the circuit breaker
	// is open after repeated failures.
	ErrGameDown = errors.New("game API unavailable")
	// ErrInvalidQuery: the game rejected the request itself; a bug on our side.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrNotFound: no nation or alliance with that id.
	ErrNotFound = errors.New("not found")
	// ErrBudgetLow: the bot's own key has few requests left today, so
	// lookups with it serve cached data only, until Error.Reset.
	ErrBudgetLow = errors.New("the bot key's daily budget is low")
	// ErrAllowanceSpent: the caller has made today's allowance of lookups
	// that spend the bot's own key; the next is allowed at Error.Reset.
	ErrAllowanceSpent = errors.New("the caller's daily lookup allowance is spent")
	// ErrNoAccount: a lookup would spend the bot's own key for a caller
	// who has no account yet to log it on (Caller.NeedsAccount); nothing
	// was sent. Make the account, then ask again.
	ErrNoAccount = errors.New("the caller has no account to log the lookup on")
)

// Error is a failed call. Its text never contains an API key.
type Error struct {
	Kind    error     // one of the Err* kinds above
	Op      string    // the GraphQL operation, e.g. "nationsByID"
	Status  int       // HTTP status; 0 when no response arrived
	Reset   time.Time // with ErrRateLimited: when calls may resume
	Message string    // the game's message, key redacted
	// Executed: a mutation ran, and a field of its answer failed (the
	// GraphQL error's path goes below the mutation), whatever Kind says.
	Executed bool
	// Refused: the game refused a mutation before running it (see
	// NotExecuted).
	Refused bool
	Err     error // the cause, key redacted
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pnw %s: %v", e.Op, e.Kind)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if !e.Reset.IsZero() {
		fmt.Fprintf(&b, " until %s", e.Reset.UTC().Format(time.RFC3339))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrRateLimited) and friends work.
func (e *Error) Is(target error) bool { return e.Kind == target }

func (e *Error) Unwrap() error { return e.Err }

// NotSent reports whether err certainly sent nothing to the game: the
// circuit breaker was open, the request was refused or could not be built
// before sending, or no connection to the game was made. A mutation that
// failed so was not executed; any other failure may have been.
func NotSent(err error) bool {
	var n notSent
	return errors.As(err, &n)
}

// NotExecuted reports whether a mutation that failed with err certainly did
// not run: nothing was sent (NotSent), or the game refused it before running
// it - HTTP 401, 403 or 429, or at HTTP 200 a GraphQL parse or validation
// error, a key, permission or rate-limit error, or one of the game's own
// refusals (refusals) at the mutation itself. Anything else (other wording,
// a 3xx, another 4xx, a 5xx, a timeout, an unreadable answer) may have run:
// its outcome is unknown.
func NotExecuted(err error) bool {
	var e *Error
	return NotSent(err) || errors.As(err, &e) && e.Refused
}

// refusals are the game's words when it refuses a mutation before running
// it: its checks of the caller's alliance, the bank's holdings, the
// receiver, the member and the bracket.
var refusals = []string{
	"does not have enough", "receiver does not exist", "you are not in an alliance",
	"you must be an officer", "is not in your alliance", "is not a member of your alliance",
	"cannot change the leader", "choose a default position", "tax bracket does not exist",
}

// refusedBeforeRunning decides, for a GraphQL error at HTTP 200 on the
// mutation itself, whether the game refused it before running it.
func refusedBeforeRunning(kind error, message, category string) bool {
	m := strings.ToLower(message)
	switch {
	case category == "graphql", category == "validation": // checked before any resolver runs
		return true
	case kind == ErrInvalidKey, kind == ErrPermission, kind == ErrRateLimited:
		return true
	}
	for _, r := range refusals {
		if strings.Contains(m, r) {
			return true
		}
	}
	return false
}

// notSent marks an error raised before any byte of the request left.
type notSent struct{ error }

func (n notSent) Unwrap() error { return n.error }

// classify maps the game's GraphQL error messages to a kind. The game has no
// error codes for these, so this goes by wording.
func classify(message, category string) error {
	m := strings.ToLower(message)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(m, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("bot key", "whitelist"):
		return ErrPermission
	case has("api key", "api_key", "apikey") && has("invalid", "revoked", "not found", "does not exist", "doesn't exist", "incorrect", "unknown", "expired"),
		has("unauthenticated", "not authenticated"):
		return ErrInvalidKey
	case has("permission", "not authorized", "unauthorized", "scope", "not allowed"):
		return ErrPermission
	case has("rate limit", "too many requests", "maximum number of requests", "max requests"):
		return ErrRateLimited
	case category == "internal", has("internal server error", "server error"):
		return ErrGameDown
	default:
		return ErrInvalidQuery
	}
}

// outcome names an error for metrics.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrInvalidKey):
		return "invalid_key"
	case errors.Is(err, ErrPermission):
		return "permission"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrBudgetLow):
		return "budget_low"
	case errors.Is(err, ErrAllowanceSpent):
		return "allowance_spent"
	case errors.Is(err, ErrGameDown):
		return "game_down"
	case errors.Is(err, ErrInvalidQuery):
		return "invalid_query"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	default:
		return "error"
	}
}

// statusOf is the status recorded in the usage log for a call's outcome.
func statusOf(err error) int {
	var e *Error
	switch {
	case err == nil:
		return 200
	case errors.As(err, &e) && e.Status != 0:
		return e.Status
	case errors.Is(err, ErrNotFound):
		return 404
	case errors.Is(err, ErrInvalidKey):
		return 401
	case errors.Is(err, ErrPermission):
		return 403
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrBudgetLow), errors.Is(err, ErrAllowanceSpent):
		return 429
	case errors.Is(err, ErrGameDown):
		return 503
	case errors.Is(err, ErrInvalidQuery):
		return 400
	default:
		return 0
	}
}
