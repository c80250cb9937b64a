-- name: APIUsageLogInsertBatch :copyfrom
INSERT INTO api_usage_logs (user_id, alliance_id, endpoint, query_hash, status_code, response_time_ms, cache_hit, created_at)
VALUES (@user_id, @alliance_id, @endpoint, @query_hash, @status_code, @response_time_ms, @cache_hit, @created_at);

-- name: APIUsageLogSummary :many
-- Calls per endpoint since a time, optionally for one user or alliance.
SELECT endpoint,
       count(*)::bigint AS calls,
       count(*) FILTER (WHERE cache_hit)::bigint AS cache_hits,
       count(*) FILTER (WHERE status_code >= 400 OR status_code = 0)::bigint AS errors,
       coalesce(avg(response_time_ms) FILTER (WHERE NOT cache_hit), 0)::double precision AS avg_response_ms
FROM api_usage_logs
WHERE created_at >= @since
  AND (sqlc.narg(user_id)::bigint IS NULL OR user_id = sqlc.narg(user_id))
  AND (sqlc.narg(alliance_id)::bigint IS NULL OR alliance_id = sqlc.narg(alliance_id))
GROUP BY endpoint
ORDER BY calls DESC, endpoint;

-- name: APIUsageLogCountUpstream :one
-- Upstream (non-cached) calls since a time for one user: the key's daily budget.
SELECT count(*)::bigint FROM api_usage_logs
WHERE user_id = @user_id AND NOT cache_hit AND created_at >= @since;

-- name: APIUsageLogDeleteBefore :execrows
DELETE FROM api_usage_logs WHERE id IN (
    SELECT u.id FROM api_usage_logs u WHERE u.created_at < @before::timestamptz ORDER BY u.created_at LIMIT @batch_size
);

-- name: APIUsageLogDaily :many
-- Game API calls per UTC day since a time: requests sent to the game, and
-- answers served from the cache.
SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')::text AS day,
       count(*) FILTER (WHERE NOT cache_hit)::bigint AS requests,
       count(*) FILTER (WHERE cache_hit)::bigint AS cache_hits
FROM api_usage_logs
WHERE created_at >= @since
GROUP BY 1
ORDER BY 1;
