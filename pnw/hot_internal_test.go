package pnw

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHotBounds: the hot layer holds no more than hotBytes, making room
// with expired entries first, refuses an entry too large for it, and keeps
// nothing past HotFor or its freshness.
func TestHotBounds(t *testing.T) {
	now := time.Now()
	h := newHot(time.Minute)
	h.put("too big", 0, now, now.Add(time.Hour), hotBytes/8+1)
	_, ok := h.get("too big", now)
	require.False(t, ok)

	h.put("expires", 1, now, now.Add(time.Second), hotBytes/8)
	for i := range 8 {
		h.put(string(rune('a'+i)), i, now, now.Add(time.Hour), hotBytes/8)
	}
	require.LessOrEqual(t, h.size, hotBytes)
	v, ok := h.get("h", now)
	require.True(t, ok, "the newest entry is kept")
	require.Equal(t, 7, v)

	later := now.Add(2 * time.Second)
	h.put("i", 8, later, later.Add(time.Hour), hotBytes/8)
	_, ok = h.get("expires", later)
	require.False(t, ok, "past its freshness")
	require.LessOrEqual(t, h.size, hotBytes)

	_, ok = h.get("i", later.Add(time.Minute))
	require.False(t, ok, "past HotFor")

	h.clear()
	_, ok = h.get("h", now)
	require.False(t, ok)
	require.Zero(t, h.size)

	off := newHot(0)
	off.put("k", 1, now, now.Add(time.Hour), 1)
	_, ok = off.get("k", now)
	require.False(t, ok, "HotFor 0 keeps nothing")
}
