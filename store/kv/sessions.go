package kv

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"pnwbot/store"
)

const (
	// sessionTTL bounds how long Redis keeps a lookup; a revocation
	// deletes it at once.
	sessionTTL = time.Minute
	// sessionTimeout bounds each read and write: a slow Redis costs a
	// database query, not a slow page.
	sessionTimeout = 100 * time.Millisecond
	// sessionForgetTimeout bounds a deletion, longer than a read's: a
	// revocation is worth the wait.
	sessionForgetTimeout = time.Second
)

// SessionCache is a site.SessionCache in Redis: the web side's session
// lookups, remembered for a minute. PostgreSQL decides; without Redis
// nothing is cached.
type SessionCache struct {
	rdb    *redis.Client
	prefix string
}

// NewSessionCache returns a cache keeping its keys under prefix.
func NewSessionCache(rdb *redis.Client, prefix string) *SessionCache {
	return &SessionCache{rdb: rdb, prefix: prefix}
}

func (c *SessionCache) key(tokenHash []byte) string {
	return c.prefix + "session:" + hex.EncodeToString(tokenHash)
}

// Get returns the session remembered under tokenHash; ok is false when
// there is none.
func (c *SessionCache) Get(ctx context.Context, tokenHash []byte) (sess store.UserSession, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, sessionTimeout)
	defer cancel()
	b, err := c.rdb.Get(ctx, c.key(tokenHash)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return sess, false, nil
	case err != nil:
		return sess, false, fmt.Errorf("session cache get: %w", err)
	}
	if err := json.Unmarshal(b, &sess); err != nil {
		return sess, false, fmt.Errorf("session cache decode: %w", err)
	}
	return sess, true, nil
}

// Set remembers sess for a minute.
func (c *SessionCache) Set(ctx context.Context, sess store.UserSession) error {
	ctx, cancel := context.WithTimeout(ctx, sessionTimeout)
	defer cancel()
	b, err := json.Marshal(sess)
	if err == nil {
		err = c.rdb.Set(ctx, c.key(sess.TokenHash), b, sessionTTL).Err()
	}
	if err != nil {
		return fmt.Errorf("session cache set: %w", err)
	}
	return nil
}

// Delete forgets the sessions of the token hashes given.
func (c *SessionCache) Delete(ctx context.Context, tokenHashes ...[]byte) error {
	if len(tokenHashes) == 0 {
		return nil
	}
	keys := make([]string, len(tokenHashes))
	for i, h := range tokenHashes {
		keys[i] = c.key(h)
	}
	ctx, cancel := context.WithTimeout(ctx, sessionForgetTimeout)
	defer cancel()
	if err := c.rdb.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("session cache delete: %w", err)
	}
	return nil
}
