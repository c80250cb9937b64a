package pnw

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKeyBudgetsBounded: a stream of new keys (an attacker rotating them)
// fills the budget map to maxKeyBudgets and no further; the keys the game
// reported on longest ago go first, the bot's own key never.
func TestKeyBudgetsBounded(t *testing.T) {
	t.Parallel()
	b := budgets{keys: map[string]*KeyBudget{}, own: "own"}
	start := time.Now()
	b.report("own", 1000, 900, time.Time{}, start)
	const extra = 100
	for i := range maxKeyBudgets + extra {
		b.report("key"+strconv.Itoa(i), 1000, 999, time.Time{}, start.Add(time.Duration(i+1)*time.Millisecond))
	}
	require.Len(t, b.keys, maxKeyBudgets)
	own, ok := b.get("own", start)
	require.True(t, ok, "the bot's own key is kept, though reported first")
	require.Equal(t, 900, own.Remaining)
	// With the own key, the map was full at key maxKeyBudgets-2: each key
	// after it pushed out the oldest, key0 to key<extra>.
	for i := range extra + 2 {
		_, ok := b.get("key"+strconv.Itoa(i), start)
		require.Equal(t, i == extra+1, ok, "key%d", i)
	}
	_, ok = b.get("key"+strconv.Itoa(maxKeyBudgets+extra-1), start)
	require.True(t, ok, "the newest is kept")

	// A key reported again is fresh: the next new key pushes out another.
	b.report("key"+strconv.Itoa(extra+1), 1000, 998, time.Time{}, start.Add(time.Hour))
	b.report("newer", 1000, 999, time.Time{}, start.Add(time.Hour))
	require.Len(t, b.keys, maxKeyBudgets)
	_, ok = b.get("key"+strconv.Itoa(extra+1), start)
	require.True(t, ok)
	_, ok = b.get("key"+strconv.Itoa(extra+2), start)
	require.False(t, ok)
}
