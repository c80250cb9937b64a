package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/breaker"
)

// TestOutcomes: failures in a row open the breaker, a success between
// them starts the count again, and an unknown outcome counts for nothing.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	b := breaker.New("test", 2, time.Hour, nil)
	call := func(o breaker.Outcome) {
		t.Helper()
		done, err := b.Allow()
		require.NoError(t, err)
		done(o)
	}
	call(breaker.Failed)
	call(breaker.Succeeded)
	call(breaker.Failed)
	call(breaker.Unknown)
	require.Equal(t, 0, b.State(), "one failure in a row")
	call(breaker.Failed)
	require.Equal(t, 2, b.State(), "two in a row")
	_, err := b.Allow()
	require.Error(t, err, "open: calls fail at once")
}

// TestHalfOpen: once open has passed, one call goes through; its success
// closes the breaker, its failure opens it again, and a call whose outcome
// is unknown leaves the next one to try.
func TestHalfOpen(t *testing.T) {
	t.Parallel()
	b := breaker.New("test", 1, time.Millisecond, nil)
	open := func() {
		t.Helper()
		done, err := b.Allow()
		require.NoError(t, err)
		done(breaker.Failed)
		time.Sleep(2 * time.Millisecond) // past open: half-open
		require.Equal(t, 1, b.State())
	}
	open()
	probe, err := b.Allow()
	require.NoError(t, err)
	_, err = b.Allow()
	require.Error(t, err, "one call at a time while half-open")
	probe(breaker.Unknown)
	probe, err = b.Allow()
	require.NoError(t, err, "an unknown outcome frees the probe")
	probe(breaker.Failed)
	require.Equal(t, 2, b.State(), "a failed probe opens it again")

	time.Sleep(2 * time.Millisecond)
	probe, err = b.Allow()
	require.NoError(t, err)
	probe(breaker.Succeeded)
	require.Equal(t, 0, b.State(), "a successful probe closes it")
}

// TestStart: a call that failed after its caller canceled says nothing of
// the server; one that timed out is a failure.
func TestStart(t *testing.T) {
	t.Parallel()
	b := breaker.New("test", 1, time.Hour, nil)
	ctx, cancel := context.WithCancel(t.Context())
	_, end, err := b.Start(ctx, time.Second)
	require.NoError(t, err)
	cancel()
	end(true)
	require.Equal(t, 0, b.State(), "the caller gave up")

	cctx, end, err := b.Start(t.Context(), time.Nanosecond)
	require.NoError(t, err)
	<-cctx.Done()
	end(true)
	require.Equal(t, 2, b.State(), "the server did not answer in time")
}
