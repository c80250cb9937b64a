-- name: RateLimitHit :one
-- Admits a request for identifier at @now when fewer than @max_requests were
-- admitted after @since (now minus the window): an admitted request is
-- recorded, a denied one is not. Either way the row lives until @until (now
-- plus the window). The upsert locks the row, so concurrent checks of one
-- identifier take turns and the count is exact. Returns the answer and the
-- requests recorded in the window, oldest first.
INSERT INTO rate_limits AS r (identifier, hits, admitted, expires_at)
VALUES (@identifier, ARRAY[@now::timestamptz], true, @until::timestamptz)
ON CONFLICT (identifier) DO UPDATE SET
    -- The requests still in the window, plus this one unless that makes
    -- more than max_requests.
    hits = (ARRAY(SELECT h FROM unnest(r.hits) AS h WHERE h > @since::timestamptz ORDER BY h) || EXCLUDED.hits)[1:@max_requests::int],
    admitted = (SELECT count(*) FROM unnest(r.hits) AS h WHERE h > @since::timestamptz) < @max_requests::int,
    expires_at = EXCLUDED.expires_at
RETURNING admitted, hits;

-- name: RateLimitDeleteExpired :execrows
-- A row past expires_at holds no request still in its window.
DELETE FROM rate_limits WHERE identifier IN (
    SELECT r.identifier FROM rate_limits r WHERE r.expires_at < @before::timestamptz ORDER BY r.expires_at LIMIT @batch_size
);
