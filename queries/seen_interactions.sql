-- name: SeenInteractionClaim :execrows
-- Records an interaction id until expires_at: 1 the first time, 0 while an
-- earlier claim of the same id has not expired.
INSERT INTO seen_interactions (interaction_id, expires_at)
VALUES (@interaction_id, @expires_at)
ON CONFLICT (interaction_id) DO UPDATE
SET expires_at = EXCLUDED.expires_at
WHERE seen_interactions.expires_at <= now();

-- name: SeenInteractionDeleteExpired :execrows
DELETE FROM seen_interactions WHERE interaction_id IN (
    SELECT s.interaction_id FROM seen_interactions s WHERE s.expires_at < @before::timestamptz ORDER BY s.expires_at LIMIT @batch_size
);
