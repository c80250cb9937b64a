package kv

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
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
// nothing is cached. Each entry carries a MAC, so that whoever can write to
// Redis cannot mint a session; a revocation leaves a tombstone for the
// entry's lifetime, so that a read racing it cannot cache the session again.
type SessionCache struct {
	rdb    *redis.Client
	prefix string
	macKey []byte
}

// revoked is a tombstone's value.
const revoked = "revoked"

// setUnlessRevoked writes an entry unless a tombstone holds its key.
var setUnlessRevoked = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

// NewSessionCache returns a cache keeping its keys under prefix, its
// entries signed with macKey (secrets.MACKey of ENCRYPTION_KEY).
func NewSessionCache(rdb *redis.Client, prefix string, macKey []byte) *SessionCache {
	return &SessionCache{rdb: rdb, prefix: prefix, macKey: macKey}
}

// mac signs an entry's content under its key.
func (c *SessionCache) mac(key string, b []byte) []byte {
	m := hmac.New(sha256.New, c.macKey)
	m.Write([]byte(key + "\x00"))
	m.Write(b)
	return m.Sum(nil)
}

func (c *SessionCache) key(tokenHash []byte) string {
	return c.prefix + "session:" + hex.EncodeToString(tokenHash)
}

// Get returns the session remembered under tokenHash; ok is false when
// there is none.
func (c *SessionCache) Get(ctx context.Context, tokenHash []byte) (sess store.UserSession, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, sessionTimeout)
	defer cancel()
	key := c.key(tokenHash)
	b, err := c.rdb.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil), err == nil && string(b) == revoked:
		return sess, false, nil
	case err != nil:
		return sess, false, fmt.Errorf("session cache get: %w", err)
	case len(b) < sha256.Size || !hmac.Equal(b[:sha256.Size], c.mac(key, b[sha256.Size:])):
		return sess, false, errors.New("session cache: an entry fails its MAC (written by someone without ENCRYPTION_KEY?); ignored")
	}
	if err := json.Unmarshal(b[sha256.Size:], &sess); err != nil {
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
		key := c.key(sess.TokenHash)
		err = setUnlessRevoked.Run(ctx, c.rdb, []string{key}, append(c.mac(key, b), b...), sessionTTL.Milliseconds(), revoked).Err()
	}
	if err != nil {
		return fmt.Errorf("session cache set: %w", err)
	}
	return nil
}

// Delete forgets the sessions of the token hashes given, leaving
// tombstones no Set overwrites while an entry could live.
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
	pipe := c.rdb.Pipeline()
	for _, k := range keys {
		pipe.Set(ctx, k, revoked, sessionTTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("session cache delete: %w", err)
	}
	return nil
}
