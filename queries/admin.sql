-- Queries of the /admin commands, across tables.

-- name: AdminUserSetPermissions :one
UPDATE users SET permissions = @permissions, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: AdminUserSessions :one
-- A user's web sessions: those still usable and the latest use of any.
SELECT count(*) FILTER (WHERE revoked_at IS NULL AND expires_at > now())::bigint AS active,
       coalesce(max(last_used_at), 'epoch')::timestamptz AS last_used_at -- epoch: never
FROM user_sessions WHERE user_id = @user_id;

-- name: AdminAllianceList :many
-- A page of the alliances pnwbot knows, by name, with their active managers.
SELECT sqlc.embed(a),
       (SELECT count(*) FROM alliance_managers m WHERE m.alliance_id = a.id AND m.is_active)::bigint AS managers
FROM alliances a
ORDER BY lower(a.name), a.id
LIMIT @row_limit OFFSET @row_offset;

-- name: AdminAllianceSearch :many
-- Alliances whose name or acronym starts with what is typed, for autocomplete.
SELECT * FROM alliances
WHERE name ILIKE @prefix::text || '%' OR acronym ILIKE @prefix::text || '%'
ORDER BY lower(name) LIMIT 25;

-- name: AdminAllianceByName :one
SELECT * FROM alliances WHERE lower(name) = lower(@name) OR lower(acronym) = lower(@name)
ORDER BY id LIMIT 1;

-- name: AdminUsageDaily :many
-- Game API lookups per UTC day since a time: sent to the game, and served
-- from the cache.
SELECT (date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::timestamptz AS day,
       count(*) FILTER (WHERE NOT cache_hit)::bigint AS upstream,
       count(*) FILTER (WHERE cache_hit)::bigint AS cached
FROM api_usage_logs
WHERE created_at >= @since
GROUP BY 1
ORDER BY 1;

-- name: AdminUsageSlowest :many
-- The operations slowest at the game since a time.
SELECT endpoint,
       count(*)::bigint AS calls,
       avg(response_time_ms)::double precision AS avg_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms)::double precision AS p95_ms,
       max(response_time_ms)::bigint AS max_ms
FROM api_usage_logs
WHERE created_at >= @since AND NOT cache_hit
GROUP BY endpoint
ORDER BY p95_ms DESC, endpoint
LIMIT @row_limit;

-- name: AdminUsageTopUsers :many
-- The users whose commands looked up the most since a time.
SELECT u.discord_id,
       count(*)::bigint AS calls,
       count(*) FILTER (WHERE NOT l.cache_hit)::bigint AS upstream
FROM api_usage_logs l
JOIN users u ON u.id = l.user_id
WHERE l.created_at >= @since
GROUP BY u.discord_id
ORDER BY upstream DESC, calls DESC, u.discord_id
LIMIT @row_limit;

-- name: AdminUsageTopAlliances :many
-- The alliances whose data was looked up the most since a time.
SELECT a.name,
       count(*)::bigint AS calls,
       count(*) FILTER (WHERE NOT l.cache_hit)::bigint AS upstream
FROM api_usage_logs l
JOIN alliances a ON a.id = l.alliance_id
WHERE l.created_at >= @since
GROUP BY a.id, a.name
ORDER BY upstream DESC, calls DESC, a.name
LIMIT @row_limit;

-- name: AdminUsageByAlliance :many
-- Requests sent to the game since a time, by the alliance they were for:
-- none (NULL) is the bot's own key, an alliance its managers' keys.
SELECT a.name AS alliance_name, count(*)::bigint AS upstream
FROM api_usage_logs l
LEFT JOIN alliances a ON a.id = l.alliance_id
WHERE l.created_at >= @since AND NOT l.cache_hit
GROUP BY a.id, a.name
ORDER BY (a.id IS NOT NULL), upstream DESC, a.name
LIMIT @row_limit;
