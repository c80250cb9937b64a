package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"pnwbot/store"
)

// PostgresInteractionLog is a bot.InteractionLog over the seen_interactions
// table, for installs without Redis and while Redis is down.
type PostgresInteractionLog struct{ store *store.Store }

// NewPostgresInteractionLog returns a log over the seen_interactions table.
func NewPostgresInteractionLog(s *store.Store) *PostgresInteractionLog {
	return &PostgresInteractionLog{store: s}
}

// Claim implements bot.InteractionLog.
func (l *PostgresInteractionLog) Claim(ctx context.Context, id string, window time.Duration) (bool, error) {
	n, err := l.store.SeenInteractionClaim(ctx, store.SeenInteractionClaimParams{InteractionID: id, ExpiresAt: time.Now().Add(window)})
	if err != nil {
		return false, fmt.Errorf("seen interactions: %w", err)
	}
	return n == 1, nil
}

// RedisInteractionLog is a bot.InteractionLog of Redis keys set with NX and an
// expiry.
type RedisInteractionLog struct {
	rdb    *redis.Client
	prefix string
}

// NewRedisInteractionLog returns a log keeping its keys under prefix.
func NewRedisInteractionLog(rdb *redis.Client, prefix string) *RedisInteractionLog {
	return &RedisInteractionLog{rdb: rdb, prefix: prefix}
}

// Claim implements bot.InteractionLog.
func (l *RedisInteractionLog) Claim(ctx context.Context, id string, window time.Duration) (bool, error) {
	return l.rdb.SetNX(ctx, l.key(id), 1, window).Result()
}

func (l *RedisInteractionLog) key(id string) string { return l.prefix + "interaction:" + id }
