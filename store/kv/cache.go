package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"pnwbot/pnw"
	"pnwbot/store"
)

// PostgresCache is a pnw.Cache over the pnw_data_cache table, for installs
// without Redis and while Redis is down.
type PostgresCache struct {
	st *store.Store
}

// NewPostgresCache returns a cache over st's pnw_data_cache table.
func NewPostgresCache(st *store.Store) *PostgresCache {
	return &PostgresCache{st: st}
}

func (c *PostgresCache) Get(ctx context.Context, key string) (pnw.Entry, bool, error) {
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

func (c *PostgresCache) Set(ctx context.Context, key string, e pnw.Entry, tags []string, keep time.Duration) error {
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

func (c *PostgresCache) InvalidateTag(ctx context.Context, tag string) error {
	if _, err := c.st.CacheInvalidateTag(ctx, tag); err != nil {
		return fmt.Errorf("postgres cache invalidate: %w", err)
	}
	return nil
}

// RedisCache keeps each entry as a string, its header then its data, and
// each tag as a set of keys. An entry keeps its tags, so that overwriting
// it takes the key out of the tags it no longer has.
type RedisCache struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisCache returns a cache in rdb with every key under prefix. Build rdb
// with ContextTimeoutEnabled: otherwise go-redis ignores ctx deadlines on the
// socket, and a hung Redis holds each call for its read timeout.
func NewRedisCache(rdb redis.UniversalClient, prefix string) *RedisCache {
	return &RedisCache{rdb: rdb, prefix: prefix}
}

// redisHeader is what RedisCache stores of an entry before its data: a
// line of JSON. The data follows as it is, so that reading an entry decodes
// the header alone and leaves the data (a 300-member list is 200 KB) to be
// decoded once, by whoever asked for it.
type redisHeader struct {
	FetchedAt  time.Time `json:"fetched_at"`
	FreshUntil time.Time `json:"fresh_until"`
	NotFound   string    `json:"not_found,omitempty"`
	Tags       []string  `json:"tags,omitempty"`
}

func (r *RedisCache) Get(ctx context.Context, key string) (pnw.Entry, bool, error) {
	h, data, ok, err := r.get(ctx, key)
	return pnw.Entry{Data: data, FetchedAt: h.FetchedAt, FreshUntil: h.FreshUntil, NotFound: h.NotFound}, ok, err
}

func (r *RedisCache) get(ctx context.Context, key string) (redisHeader, json.RawMessage, bool, error) {
	var h redisHeader
	b, err := r.rdb.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return h, nil, false, nil
	}
	if err != nil {
		return h, nil, false, fmt.Errorf("redis cache get: %w", err)
	}
	// JSON escapes the newlines in strings: the header's ends at the first.
	header, data, _ := bytes.Cut(b, []byte{'\n'})
	if err := json.Unmarshal(header, &h); err != nil {
		return h, nil, false, fmt.Errorf("redis cache decode: %w", err)
	}
	if len(data) == 0 {
		data = nil // a not-found answer
	}
	return h, data, true, nil
}

func (r *RedisCache) Set(ctx context.Context, key string, e pnw.Entry, tags []string, keep time.Duration) error {
	b, err := json.Marshal(redisHeader{FetchedAt: e.FetchedAt, FreshUntil: e.FreshUntil, NotFound: e.NotFound, Tags: tags})
	if err != nil {
		return fmt.Errorf("redis cache encode: %w", err)
	}
	b = append(append(b, '\n'), e.Data...)
	// Without the old entry there is nothing to clean up; a stale member
	// costs at most an extra miss after InvalidateTag.
	old, _, _, _ := r.get(ctx, key)
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, r.prefix+key, b, keep)
		for _, tag := range old.Tags {
			if !slices.Contains(tags, tag) {
				p.SRem(ctx, r.tagKey(tag), key)
			}
		}
		for _, tag := range tags {
			tk := r.tagKey(tag)
			p.SAdd(ctx, tk, key)
			// A tag set lives as long as its longest-lived entry.
			p.ExpireNX(ctx, tk, keep)
			p.ExpireGT(ctx, tk, keep)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis cache set: %w", err)
	}
	return nil
}

func (r *RedisCache) InvalidateTag(ctx context.Context, tag string) error {
	tk := r.tagKey(tag)
	keys, err := r.rdb.SMembers(ctx, tk).Result()
	if err != nil {
		return fmt.Errorf("redis cache tag: %w", err)
	}
	del := []string{tk}
	for _, k := range keys {
		del = append(del, r.prefix+k)
	}
	if err := r.rdb.Del(ctx, del...).Err(); err != nil {
		return fmt.Errorf("redis cache invalidate: %w", err)
	}
	return nil
}

func (r *RedisCache) tagKey(tag string) string { return r.prefix + "tag:" + tag }
