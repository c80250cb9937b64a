package pnw

import (
	"sync"
	"time"
)

// hotBytes bounds what the hot layer holds, counted as the size of the
// entries' JSON in the cache: a 300-member list is about 200 KB of it.
const hotBytes = 16 << 20

// hot keeps the public results this process read or fetched (those of the
// bot's own key, the same for every caller), decoded, for Options.HotFor,
// so that a lookup repeated within it costs neither a cache round trip nor
// a decode: a popular nation's card, an alliance's members page after page.
// Only fresh data is kept, never past its freshness. InvalidateTag empties
// this process's layer at once; another replica's layer keeps what it
// holds until it expires, so after an invalidation a replica may serve the
// data as it was for up to HotFor more.
type hot struct {
	keep time.Duration // 0: the layer is off

	mu      sync.Mutex
	entries map[string]hotEntry
	size    int
	cleared uint64 // clears so far: a result read before one is not put after it
}

type hotEntry struct {
	result any // a Result[T]
	until  time.Time
	size   int
}

func newHot(keep time.Duration) *hot {
	return &hot{keep: keep, entries: map[string]hotEntry{}}
}

// get returns the result held under key, if it is still fresh at now.
func (h *hot) get(key string, now time.Time) (any, bool) {
	if h.keep <= 0 {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.entries[key]
	if !ok {
		return nil, false
	}
	if !now.Before(e.until) {
		h.drop(key, e)
		return nil, false
	}
	return e.result, true
}

// generation is what put needs to tell a result read before the last clear.
func (h *hot) generation() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cleared
}

// put holds result under key until freshUntil, or HotFor from now if
// sooner; size is its JSON's. A result read before a clear (gen is not the
// generation any more) is not kept: the invalidation may have been about
// it. Past hotBytes, expired entries go first, then any.
func (h *hot) put(gen uint64, key string, result any, now, freshUntil time.Time, size int) {
	if h.keep <= 0 || size > hotBytes/8 {
		return
	}
	until := now.Add(h.keep)
	if freshUntil.Before(until) {
		until = freshUntil
	}
	if !now.Before(until) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.cleared {
		return
	}
	if old, ok := h.entries[key]; ok {
		h.drop(key, old)
	}
	if h.size+size > hotBytes {
		for k, e := range h.entries {
			if !now.Before(e.until) {
				h.drop(k, e)
			}
		}
		for k, e := range h.entries {
			if h.size+size <= hotBytes {
				break
			}
			h.drop(k, e)
		}
	}
	h.entries[key] = hotEntry{result: result, until: until, size: size}
	h.size += size
}

func (h *hot) drop(key string, e hotEntry) {
	delete(h.entries, key)
	h.size -= e.size
}

// clear empties the layer: an invalidation names a tag, and the layer does
// not keep tags, so it forgets everything, which costs at most one cache
// read per entry.
func (h *hot) clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.entries)
	h.size = 0
	h.cleared++
}
