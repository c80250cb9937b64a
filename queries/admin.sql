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
