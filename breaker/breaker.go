// Package breaker keeps calls away from a server that stopped answering:
// PostgreSQL (store), Redis (store/kv's failover) and the game's API (pnw)
// each have one.
package breaker

import (
	"context"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Breaker opens after a number of failed calls in a row, and lets one call
// through (half-open) a while later to see whether the server is back. A
// call that tells nothing of the server (its caller gave up) does not
// count.
type Breaker struct {
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]
}

// Outcome is what a call tells of the server.
type Outcome int

const (
	// Succeeded: the server answered.
	Succeeded Outcome = iota
	// Failed: the server did not answer, or answered that it is down.
	Failed
	// Unknown: nothing either way (the caller gave up first).
	Unknown
)

// Outcomes of a call, for gobreaker.
var (
	errFailed  = errors.New("failed")
	errUnknown = errors.New("outcome unknown")
)

// New returns a closed breaker that opens after failures failed
// calls in a row and stays open for open; onChange, when not nil, hears of
// each change of state.
func New(name string, failures uint32, open time.Duration, onChange func(from, to gobreaker.State)) *Breaker {
	st := gobreaker.Settings{
		Name:        name,
		Timeout:     open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errUnknown) },
	}
	if onChange != nil {
		st.OnStateChange = func(_ string, from, to gobreaker.State) { onChange(from, to) }
	}
	return &Breaker{cb: gobreaker.NewTwoStepCircuitBreaker[struct{}](st)}
}

// Allow begins a call, unless the breaker is open (the error then says
// so): done reports how it went.
func (b *Breaker) Allow() (done func(Outcome), err error) {
	end, err := b.cb.Allow()
	if err != nil {
		return nil, err
	}
	return func(o Outcome) {
		switch o {
		case Succeeded:
			end(nil)
		case Failed:
			end(errFailed)
		default:
			end(errUnknown)
		}
	}, nil
}

// Start begins a call, unless the breaker is open (the error then says
// so): its context, bounded by timeout, and end, which reports whether the
// call failed. A failure after ctx was canceled is the caller's, not the
// server's.
func (b *Breaker) Start(ctx context.Context, timeout time.Duration) (context.Context, func(failed bool), error) {
	done, err := b.Allow()
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	return cctx, func(failed bool) {
		cancel()
		switch {
		case !failed:
			done(Succeeded)
		case errors.Is(ctx.Err(), context.Canceled):
			done(Unknown)
		default:
			done(Failed)
		}
	}, nil
}

// State is 0 closed, 1 half-open, 2 open.
func (b *Breaker) State() int { return int(b.cb.State()) }
