// Package breaker keeps calls away from a server that stopped answering:
// PostgreSQL (store) and Redis (store/kv's failover) each have one.
package breaker

import (
	"context"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Breaker opens after a number of failed calls in a row, and lets one call
// through (half-open) a while later to see whether the server is back. A call whose caller gave up
// tells it nothing.
type Breaker struct {
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]
}

// Outcomes of a call, for the breaker.
var (
	errFailed     = errors.New("failed")
	errCallerGone = errors.New("caller gone")
)

// New returns a closed breaker that opens after failures failed
// calls in a row and stays open for open; onChange, when not nil, hears of
// each change of state.
func New(name string, failures uint32, open time.Duration, onChange func(from, to gobreaker.State)) *Breaker {
	st := gobreaker.Settings{
		Name:        name,
		Timeout:     open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errCallerGone) },
	}
	if onChange != nil {
		st.OnStateChange = func(_ string, from, to gobreaker.State) { onChange(from, to) }
	}
	return &Breaker{cb: gobreaker.NewTwoStepCircuitBreaker[struct{}](st)}
}

// Start begins a call, unless the breaker is open (the error then says
// so): its context, bounded by timeout, and end, which reports whether the
// call failed.
func (b *Breaker) Start(ctx context.Context, timeout time.Duration) (context.Context, func(failed bool), error) {
	done, err := b.cb.Allow()
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	return cctx, func(failed bool) {
		cancel()
		switch {
		case !failed:
			done(nil)
		case errors.Is(ctx.Err(), context.Canceled):
			done(errCallerGone)
		default:
			done(errFailed)
		}
	}, nil
}

// State is 0 closed, 1 half-open, 2 open.
func (b *Breaker) State() int { return int(b.cb.State()) }
