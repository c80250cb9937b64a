package war_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkAlertDelay declares wars one after another in the fake game and
// measures each from its declaration (the war's date) to its alert in the
// fake Discord channel, through the stream: run with -benchtime 100x for
// the figure the README gives (p50 and max).
func BenchmarkAlertDelay(b *testing.B) {
	w := newWorld(b)
	w.service(b, true)
	w.following(b, 1)
	delays := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		declared := w.declare()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := w.discord.WaitChannelMessages(ctx, alertChannel, i+1)
		cancel()
		if err != nil {
			b.Fatalf("alert %d: %v", i+1, err)
		}
		delays = append(delays, time.Since(declared.Date))
	}
	b.StopTimer()
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(delays[len(delays)-1].Microseconds())/1000, "max_ms")
}
