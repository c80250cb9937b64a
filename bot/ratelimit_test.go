package bot

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The memory limiter forgets keys with no request left in the window once
// it holds memoryKeys of them, and still counts every key in the window.
func TestMemoryLimiterForgetsIdleKeys(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := NewMemoryLimiter(FixedRate(Rate{Requests: 2, Window: time.Minute}))
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	for i := range memoryKeys {
		ok, _, err := l.Allow(ctx, strconv.Itoa(i))
		require.NoError(t, err)
		require.True(t, ok)
	}
	now = now.Add(time.Minute + time.Second)
	ok, _, _ := l.Allow(ctx, "late")
	assert.True(t, ok)
	assert.Equal(t, 1, len(l.hits), "keys idle for a window are forgotten")

	// Past memoryKeys keys in the window, the limit holds for each.
	for i := range 2 * memoryKeys {
		l.Allow(ctx, strconv.Itoa(i))
	}
	ok, _, _ = l.Allow(ctx, "late")
	assert.True(t, ok, "the second request of the first key")
	ok, retry, _ := l.Allow(ctx, "late")
	assert.False(t, ok, "a third request of the first key in the window")
	assert.Equal(t, time.Minute, retry)
	ok, _, _ = l.Allow(ctx, "0")
	assert.True(t, ok, "the second request of another key")
	ok, _, _ = l.Allow(ctx, "0")
	assert.False(t, ok, "a third request of another key in the window")
}

// BenchmarkMemoryLimiterBusy is one request of a new key while more keys
// than memoryKeys are in the window (a double outage with many users): the
// sweep of idle keys must not walk every key at each request.
//
//	go test -run '^$' -bench MemoryLimiterBusy ./bot
func BenchmarkMemoryLimiterBusy(b *testing.B) {
	l := NewMemoryLimiter(FixedRate(Rate{Requests: 30, Window: time.Minute}))
	ctx := context.Background()
	for i := range 2 * memoryKeys {
		l.Allow(ctx, strconv.Itoa(i))
	}
	i := 0
	for b.Loop() {
		i++
		if ok, _, _ := l.Allow(ctx, "new"+strconv.Itoa(i)); !ok {
			b.Fatal("refused a new key")
		}
	}
}
