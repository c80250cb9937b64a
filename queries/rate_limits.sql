-- name: RateLimitHit :one
-- Counts one request in the fixed window starting at window_start and returns
-- the window's count, so callers compare it against max_requests.
INSERT INTO rate_limits (identifier, window_start, window_end, requests, max_requests)
VALUES (@identifier, @window_start, @window_end, 1, @max_requests)
ON CONFLICT (identifier, window_start) DO UPDATE
SET requests = rate_limits.requests + 1, updated_at = now()
RETURNING requests, max_requests, window_end;

-- name: RateLimitCount :one
-- Requests counted for identifier in windows starting at or after since: with
-- the previous window this gives a sliding-window estimate.
SELECT coalesce(sum(requests), 0)::bigint FROM rate_limits
WHERE identifier = @identifier AND window_start >= @since;

-- name: RateLimitDeleteExpired :execrows
DELETE FROM rate_limits WHERE id IN (
    SELECT r.id FROM rate_limits r WHERE r.window_end < @before::timestamptz ORDER BY r.window_end LIMIT @batch_size
);
