package pnw

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// maxNationsPerQuery is the game's limit for nations(first:).
const maxNationsPerQuery = 500

// batcher merges the nation lookups that arrive within a short window into
// one nations(id: [...]) query.
type batcher struct {
	c      *Client
	window time.Duration

	mu      sync.Mutex
	pending map[int][]chan nationResult
	ctx     context.Context // the first waiter's, for its caller and trace
	timer   *time.Timer
}

type nationResult struct {
	n   Nation
	err error
}

func (b *batcher) load(ctx context.Context, id int) (Nation, error) {
	ch := make(chan nationResult, 1)
	b.mu.Lock()
	if b.pending == nil {
		b.pending = map[int][]chan nationResult{}
		b.ctx = ctx
		b.timer = time.AfterFunc(b.window, b.flush)
	}
	b.pending[id] = append(b.pending[id], ch)
	full := len(b.pending) >= maxNationsPerQuery
	b.mu.Unlock()
	if full {
		b.flush()
	}
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done():
		return Nation{}, fmt.Errorf("pnw nationsByID: %w", ctx.Err())
	}
}

func (b *batcher) flush() {
	b.mu.Lock()
	pending, ctx := b.pending, b.ctx
	b.pending, b.ctx = nil, nil
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	ids := make([]int, 0, len(pending))
	for id := range pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	found, err := b.fetch(ctx, ids)
	for id, waiters := range pending {
		r := nationResult{err: err}
		if err == nil {
			n, ok := found[id]
			r.n = n
			if !ok {
				r.err = &Error{Kind: ErrNotFound, Op: "nationsByID", Message: "nation " + strconv.Itoa(id)}
			}
		}
		for _, w := range waiters {
			w <- r
		}
	}
}

// fetch runs the merged query for every waiter on a shared context, with a
// panic turned into an error, since flush may run on the timer's goroutine.
// The request is logged for the first waiter; the others log their own calls
// as served without one.
func (b *batcher) fetch(ctx context.Context, ids []int) (found map[int]Nation, err error) {
	defer b.c.recoverTo("nationsByID", &err)
	ctx, cancel := shared(ctx)
	defer cancel()
	resp, err := nationsByID(ctx, b.c.public(), ids, len(ids))
	if err != nil {
		return nil, err
	}
	found = map[int]Nation{}
	for _, n := range resp.Nations.Data {
		if id, perr := strconv.Atoi(n.Id); perr == nil {
			found[id] = n
		}
	}
	return found, nil
}
