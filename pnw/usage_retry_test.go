package pnw_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// flakySink fails its first failures writes (all of them when negative) as
// a connection reset would, then writes to PostgreSQL.
type flakySink struct {
	next     pnw.UsageSink
	failures int32
	calls    atomic.Int32
}

func (s *flakySink) InsertUsage(ctx context.Context, rows []pnw.UsageRow) error {
	if n := s.calls.Add(1); s.failures < 0 || n <= s.failures {
		return errors.New("write tcp 127.0.0.1:5432: connection reset by peer")
	}
	return s.next.InsertUsage(ctx, rows)
}

// A batch that fails for a reason other than its rows is written again, a
// bounded number of times, and only then counted as dropped.
func TestUsageLogRetries(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		failures int32
		calls    int32
		stored   int
		dropped  float64
	}{
		"ThroughABlip":        {failures: 1, calls: 2, stored: 1},
		"DroppedAfterRetries": {failures: -1, calls: 3, dropped: 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var sink *flakySink
			c, b := setup(t, func(o *pnw.Options, b *testBundle) {
				sink = &flakySink{next: kv.NewUsage(b.db), failures: tc.failures}
				o.Usage = sink
			})
			_, err := c.Alliance(t.Context(), allianceID) // one upstream row
			require.NoError(t, err)
			closeClient(t, c)
			require.Len(t, usageRows(t, b), tc.stored)
			require.Equal(t, tc.dropped, metric(t, b, "pnw_usage_log_dropped_total"))
			require.Equal(t, tc.calls, sink.calls.Load())
		})
	}
}

// A row PostgreSQL refuses is told apart from an outage: retrying it cannot
// help.
func TestUsageSinkRejectedRow(t *testing.T) {
	t.Parallel()
	err := kv.NewUsage(storetest.NewDB(t)).InsertUsage(t.Context(), []pnw.UsageRow{{StatusCode: 200, CreatedAt: time.Now()}}) // no endpoint
	require.ErrorIs(t, err, pnw.ErrRejectedRow)
}
