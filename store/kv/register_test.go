package kv_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

func TestRegisterOnce(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	registerOnce := kv.RegisterOnce(st)
	var calls atomic.Int32
	register := func(context.Context) error {
		calls.Add(1)
		return nil
	}

	// Four replicas starting together: one registers, never two at once.
	var wg sync.WaitGroup
	var registered atomic.Int32
	for range 4 {
		wg.Go(func() {
			ok, err := registerOnce(t.Context(), "digest-1", register)
			require.NoError(t, err)
			if ok {
				registered.Add(1)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, calls.Load())
	require.EqualValues(t, 1, registered.Load())

	// New definitions register again; a failure records nothing.
	ok, err := registerOnce(t.Context(), "digest-2", func(context.Context) error { return errors.New("discord: 503") })
	require.ErrorContains(t, err, "503")
	require.False(t, ok)
	ok, err = registerOnce(t.Context(), "digest-2", register)
	require.NoError(t, err)
	require.True(t, ok)
	require.EqualValues(t, 2, calls.Load())
}
