package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"pnwbot/pnw"
	"pnwbot/store"
)

// Cache is a pnw.Cache over the pnw_data_cache table, for installs without
// Redis.
type Cache struct {
	st *store.Store
}

// NewCache returns a cache over st's pnw_data_cache table.
func NewCache(st *store.Store) *Cache {
	return &Cache{st: st}
}

func (c *Cache) Get(ctx context.Context, key string) (pnw.Entry, bool, error) {
	row, err := c.st.CacheGet(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return pnw.Entry{}, false, nil
	}
	if err != nil {
		return pnw.Entry{}, false, fmt.Errorf("postgres cache get: %w", err)
	}
	var e pnw.Entry
	if err := json.Unmarshal(row.Data, &e); err != nil {
		return pnw.Entry{}, false, fmt.Errorf("postgres cache decode: %w", err)
	}
	return e, true, nil
}

func (c *Cache) Set(ctx context.Context, key string, e pnw.Entry, tags []string, keep time.Duration) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("postgres cache encode: %w", err)
	}
	if tags == nil {
		tags = []string{}
	}
	err = c.st.CacheSet(ctx, store.CacheSetParams{CacheKey: key, Data: b, Tags: tags, ExpiresAt: time.Now().Add(keep)})
	if err != nil {
		return fmt.Errorf("postgres cache set: %w", err)
	}
	return nil
}

func (c *Cache) InvalidateTag(ctx context.Context, tag string) error {
	if _, err := c.st.CacheInvalidateTag(ctx, tag); err != nil {
		return fmt.Errorf("postgres cache invalidate: %w", err)
	}
	return nil
}
