-- name: AuditLogInsert :one
INSERT INTO audit_logs (user_id, alliance_id, action, resource_type, resource_id, old_values, new_values, success, ip_address, user_agent)
VALUES (@user_id, @alliance_id, @action, @resource_type, @resource_id, @old_values, @new_values, @success, @ip_address, @user_agent)
RETURNING *;

-- name: AuditLogList :many
-- Newest first, keyset-paginated on (created_at, id): pass the last row's
-- values as the cursor for the next page; rows inserted meanwhile never shift it.
SELECT * FROM audit_logs
WHERE (sqlc.narg(user_id)::bigint IS NULL OR user_id = sqlc.narg(user_id))
  AND (sqlc.narg(alliance_id)::bigint IS NULL OR alliance_id = sqlc.narg(alliance_id))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action))
  AND (sqlc.narg(since)::timestamptz IS NULL OR created_at >= sqlc.narg(since))
  AND (sqlc.narg(cursor_time)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(cursor_time)::timestamptz, sqlc.narg(cursor_id)::bigint))
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- name: AuditLogDeleteBefore :execrows
DELETE FROM audit_logs WHERE id IN (
    SELECT l.id FROM audit_logs l WHERE l.created_at < @before::timestamptz ORDER BY l.created_at LIMIT @batch_size
);

-- name: AuditLogScrubPersonal :execrows
-- Before an account goes: its rows about itself (its nation, keys and
-- settings) keep the event and lose the details that identify the player.
UPDATE audit_logs SET resource_id = '', old_values = NULL, new_values = NULL
WHERE user_id = @user_id AND resource_type IN ('user', 'nation');

-- name: AuditLogPage :many
-- One page of the audit log, newest first, optionally of one user, one
-- alliance, one action and since a time, with who acted and where.
SELECT sqlc.embed(l), u.discord_id, u.discord_username, a.name AS alliance_name
FROM audit_logs l
LEFT JOIN users u ON u.id = l.user_id
LEFT JOIN alliances a ON a.id = l.alliance_id
WHERE (sqlc.narg(user_id)::bigint IS NULL OR l.user_id = sqlc.narg(user_id))
  AND (sqlc.narg(alliance_id)::bigint IS NULL OR l.alliance_id = sqlc.narg(alliance_id))
  AND (sqlc.narg(action)::text IS NULL OR l.action = sqlc.narg(action))
  AND (sqlc.narg(since)::timestamptz IS NULL OR l.created_at >= sqlc.narg(since))
ORDER BY l.created_at DESC, l.id DESC
LIMIT @row_limit OFFSET @row_offset;
