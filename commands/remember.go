package commands

import (
	"context"
	"sync"
	"time"
)

// A cached lookup writes nothing: seen_nations and seen_alliances rows are
// written when their names change, or when this process last wrote them
// rememberEvery ago, which keeps seen_at fresh enough for autocomplete's
// "most recent first" and for retention. Concurrent lookups of one nation
// would otherwise queue on its row lock and a commit each.
const (
	rememberEvery = time.Hour
	// maxRemembered bounds the memory below; past it, it starts over.
	maxRemembered = 100_000
)

// remembered is what this process last wrote to the seen-name tables.
type remembered struct {
	mu      sync.Mutex
	written map[string]rememberedRow // by "nation:id", "alliance:id"
}

type rememberedRow struct {
	names string // the row's names, joined
	at    time.Time
}

// remember runs write, which records names for the row key, unless this
// process wrote the same names lately. A failure only costs a suggestion,
// so it is logged.
func (d *Deps) remember(ctx context.Context, key, names string, write func() error) {
	now := d.Now()
	r := d.names
	r.mu.Lock()
	last, ok := r.written[key]
	r.mu.Unlock()
	if ok && last.names == names && now.Sub(last.at) < rememberEvery {
		return
	}
	if err := write(); err != nil {
		d.Logger.WarnContext(ctx, "remember name", "row", key, "error", err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.written == nil || len(r.written) >= maxRemembered {
		r.written = map[string]rememberedRow{}
	}
	r.written[key] = rememberedRow{names: names, at: now}
}
