package commands_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkMe runs /me end to end through the router: user row, roles and
// admin queries on real PostgreSQL, the nation from the warm cache. It
// reports the 99th percentile besides the mean.
func BenchmarkMe(b *testing.B) {
	_, tb := setup(b)
	_, err := tb.link(b, aliceID, aliceKey)
	require.NoError(b, err)
	i := interaction(b, "me")
	ctx := context.Background()
	_, err = tb.router.Serve(ctx, i) // warms the nation cache
	require.NoError(b, err)

	durations := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if _, err := tb.router.Serve(ctx, i); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	slices.Sort(durations)
	p99 := durations[len(durations)*99/100]
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
