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
	h.put(0, "too big", 0, now, now.Add(time.Hour), hotBytes/8+1)
	_, ok := h.get("too big", now)
	require.False(t, ok)

	h.put(0, "expires", 1, now, now.Add(time.Second), hotBytes/8)
	for i := range 8 {
		h.put(0, string(rune('a'+i)), i, now, now.Add(time.Hour), hotBytes/8)
	}
	require.LessOrEqual(t, h.size, hotBytes)
	v, ok := h.get("h", now)
	require.True(t, ok, "the newest entry is kept")
	require.Equal(t, 7, v)

	later := now.Add(2 * time.Second)
	h.put(0, "i", 8, later, later.Add(time.Hour), hotBytes/8)
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
	off.put(0, "k", 1, now, now.Add(time.Hour), 1)
	_, ok = off.get("k", now)
	require.False(t, ok, "HotFor 0 keeps nothing")
}

// TestHotAfterClear: a result read before an invalidation cleared the
// layer is not kept after it, so the replica that invalidated reads anew.
func TestHotAfterClear(t *testing.T) {
	now := time.Now()
	h := newHot(time.Minute)
	gen := h.generation()
	h.clear() // an invalidation while the old data was on its way
	h.put(gen, "nation", "old", now, now.Add(time.Hour), 1)
	_, ok := h.get("nation", now)
	require.False(t, ok, "read before the clear")

	h.put(h.generation(), "nation", "new", now, now.Add(time.Hour), 1)
	v, ok := h.get("nation", now)
	require.True(t, ok)
	require.Equal(t, "new", v)
}
