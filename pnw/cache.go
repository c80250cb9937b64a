package pnw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cache stores API results. RedisCache implements it, and so does
// store/adapter.Cache over PostgreSQL.
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

// RedisCache keeps entries as JSON strings and each tag as a set of keys.
// An entry keeps its tags, so that overwriting it takes the key out of the
// tags it no longer has.
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

// redisEntry is an Entry as RedisCache stores it.
type redisEntry struct {
	Entry
	Tags []string `json:"tags,omitempty"`
}

func (r *RedisCache) Get(ctx context.Context, key string) (Entry, bool, error) {
	e, ok, err := r.get(ctx, key)
	return e.Entry, ok, err
}

func (r *RedisCache) get(ctx context.Context, key string) (redisEntry, bool, error) {
	b, err := r.rdb.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return redisEntry{}, false, nil
	}
	if err != nil {
		return redisEntry{}, false, fmt.Errorf("redis cache get: %w", err)
	}
	var e redisEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return redisEntry{}, false, fmt.Errorf("redis cache decode: %w", err)
	}
	return e, true, nil
}

func (r *RedisCache) Set(ctx context.Context, key string, e Entry, tags []string, keep time.Duration) error {
	b, err := json.Marshal(redisEntry{Entry: e, Tags: tags})
	if err != nil {
		return fmt.Errorf("redis cache encode: %w", err)
	}
	// Without the old entry there is nothing to clean up; a stale member
	// costs at most an extra miss after InvalidateTag.
	old, _, _ := r.get(ctx, key)
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
