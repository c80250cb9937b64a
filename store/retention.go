package store

import (
	"context"
	"fmt"
	"time"
)

// Retention periods from the product: usage logs 90 days, audit logs a year;
// names the bot has not seen for half a year leave autocomplete. Cache entries,
// sessions and rate limits go when they expire.
const (
	UsageRetention = 90 * 24 * time.Hour
	AuditRetention = 365 * 24 * time.Hour
	SeenRetention  = 180 * 24 * time.Hour
)

// pruneBatch bounds each DELETE so retention never holds long locks.
const pruneBatch = 1000

// Prune deletes rows past their retention in bounded batches and returns how
// many rows went from each table.
func (s *Store) Prune(ctx context.Context, now time.Time) (map[string]int64, error) {
	steps := []struct {
		table string
		del   func() (int64, error)
	}{
		{"api_usage_logs", func() (int64, error) {
			return s.APIUsageLogDeleteBefore(ctx, APIUsageLogDeleteBeforeParams{Before: now.Add(-UsageRetention), BatchSize: pruneBatch})
		}},
		{"audit_logs", func() (int64, error) {
			return s.AuditLogDeleteBefore(ctx, AuditLogDeleteBeforeParams{Before: now.Add(-AuditRetention), BatchSize: pruneBatch})
		}},
		{"pnw_data_cache", func() (int64, error) {
			return s.CacheDeleteExpired(ctx, CacheDeleteExpiredParams{Before: now, BatchSize: pruneBatch})
		}},
		{"rate_limits", func() (int64, error) {
			return s.RateLimitDeleteExpired(ctx, RateLimitDeleteExpiredParams{Before: now, BatchSize: pruneBatch})
		}},
		{"seen_interactions", func() (int64, error) {
			return s.SeenInteractionDeleteExpired(ctx, SeenInteractionDeleteExpiredParams{Before: now, BatchSize: pruneBatch})
		}},
		{"seen_nations", func() (int64, error) {
			return s.SeenNationDeleteBefore(ctx, SeenNationDeleteBeforeParams{Before: now.Add(-SeenRetention), BatchSize: pruneBatch})
		}},
		{"seen_alliances", func() (int64, error) {
			return s.SeenAllianceDeleteBefore(ctx, SeenAllianceDeleteBeforeParams{Before: now.Add(-SeenRetention), BatchSize: pruneBatch})
		}},
		{"user_sessions", func() (int64, error) {
			return s.UserSessionDeleteExpired(ctx, UserSessionDeleteExpiredParams{Before: now, BatchSize: pruneBatch})
		}},
	}
	deleted := make(map[string]int64, len(steps))
	for _, step := range steps {
		for {
			n, err := step.del()
			if err != nil {
				return deleted, fmt.Errorf("prune %s: %w", step.table, err)
			}
			deleted[step.table] += n
			if n < pruneBatch {
				break
			}
		}
	}
	return deleted, nil
}
