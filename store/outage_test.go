package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

// A database that stops or hangs fails each query within QueryTimeout with
// ErrUnavailable, well inside Discord's 3 s window; after two such
// failures the breaker fails queries at once, and once the database is back
// a probe finds it.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ fail, recover func(*storetest.Server) }{
		"Stopped": {(*storetest.Server).Stop, (*storetest.Server).Start},
		"Frozen":  {(*storetest.Server).Freeze, (*storetest.Server).Thaw},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := storetest.StartPostgres(t)
			st := srv.NewDB(t)
			query := func() error {
				// Discord's window: the query must end well before it.
				ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
				defer cancel()
				_, err := st.UserGetByDiscordID(ctx, "1")
				require.NotErrorIs(t, ctx.Err(), context.DeadlineExceeded, "the query used up the window")
				return err
			}
			require.ErrorIs(t, query(), store.ErrNotFound)

			c.fail(srv)
			for range 2 {
				require.ErrorIs(t, query(), store.ErrUnavailable)
			}
			require.Equal(t, 2, st.BreakerState(), "open")
			require.ErrorContains(t, query(), "circuit breaker is open")
			// A transaction too.
			err := st.InTx(t.Context(), func(q *store.Queries) error { return nil })
			require.ErrorIs(t, err, store.ErrUnavailable)

			c.recover(srv)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for query() != store.ErrNotFound {
				select {
				case <-ctx.Done():
					t.Fatal("the database is back, the queries are not")
				case <-tick.C:
				}
			}
			require.Equal(t, 0, st.BreakerState(), "closed")
		})
	}
}

// A request that found the database unavailable does not wait for it again.
func TestWithoutDatabase(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	_, err := st.UserGetByDiscordID(store.WithoutDatabase(t.Context()), "1")
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = st.UserGetByDiscordID(t.Context(), "1")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// A burst far larger than the pool, behind transactions that hold every
// connection past QueryTimeout, waits its turn: every query answers and
// the breaker stays closed (a busy pool is not an outage).
func TestBusyPool(t *testing.T) {
	t.Parallel()
	url := storetest.NewDB(t).Pool.Config().ConnString()
	st, err := store.Open(t.Context(), url, 2)
	require.NoError(t, err)
	defer st.Close()

	release := make(chan struct{})
	holding := make(chan struct{})
	var held sync.WaitGroup
	for range 2 {
		held.Go(func() {
			assert.NoError(t, st.InTx(t.Context(), func(q *store.Queries) error {
				holding <- struct{}{}
				<-release
				return nil
			}))
		})
	}
	<-holding
	<-holding
	// The holders keep their connections longer than a query may take:
	// the wait that counted as an outage before.
	time.AfterFunc(2*store.QueryTimeout, func() { close(release) })

	const burst = 50
	errs := make(chan error, burst)
	for range burst {
		go func() {
			_, err := st.UserGetByDiscordID(t.Context(), "1")
			errs <- err
		}()
	}
	for range burst {
		require.ErrorIs(t, <-errs, store.ErrNotFound)
	}
	held.Wait()
	require.Equal(t, 0, st.BreakerState(), "closed")
}
