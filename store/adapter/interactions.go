package adapter

import (
	"context"
	"fmt"
	"time"

	"pnwbot/store"
)

// InteractionLog is a bot.InteractionLog over the seen_interactions table,
// for installs without Redis.
type InteractionLog struct{ store *store.Store }

// NewInteractionLog returns a log over the seen_interactions table.
func NewInteractionLog(s *store.Store) *InteractionLog { return &InteractionLog{store: s} }

// Claim implements bot.InteractionLog.
func (l *InteractionLog) Claim(ctx context.Context, id string, window time.Duration) (bool, error) {
	n, err := l.store.SeenInteractionClaim(ctx, store.SeenInteractionClaimParams{InteractionID: id, ExpiresAt: time.Now().Add(window)})
	if err != nil {
		return false, fmt.Errorf("seen interactions: %w", err)
	}
	return n == 1, nil
}
