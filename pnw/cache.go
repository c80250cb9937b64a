package pnw

import (
	"context"
	"encoding/json"
	"time"
)

// Cache stores API results. store/kv implements it in Redis and in
// PostgreSQL.
type Cache interface {
	// Get returns the entry under key; ok is false when there is none.
	Get(ctx context.Context, key string) (e Entry, ok bool, err error)
	// Set stores e under key for keep (its TTL plus the stale window),
	// reachable through each tag.
	Set(ctx context.Context, key string, e Entry, tags []string, keep time.Duration) error
	// InvalidateTag deletes every entry stored with tag.
	InvalidateTag(ctx context.Context, tag string) error
}

// Entry is one cached result.
type Entry struct {
	Data       json.RawMessage `json:"data"`
	FetchedAt  time.Time       `json:"fetched_at"`
	FreshUntil time.Time       `json:"fresh_until"` // past this it is stale
	// NotFound, when set, records that the game had no such thing: the
	// message of its ErrNotFound, and Data is empty.
	NotFound string `json:"not_found,omitempty"`
}
