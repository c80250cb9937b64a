-- name: AllianceManagerUpsert :one
INSERT INTO alliance_managers (user_id, alliance_id, role, permissions, assigned_by)
VALUES (@user_id, @alliance_id, @role, @permissions, @assigned_by)
ON CONFLICT (user_id, alliance_id) DO UPDATE
SET role = EXCLUDED.role, permissions = EXCLUDED.permissions, assigned_by = EXCLUDED.assigned_by,
    is_active = true, updated_at = now()
RETURNING *;

-- name: AllianceManagerGet :one
SELECT * FROM alliance_managers
WHERE user_id = @user_id AND alliance_id = @alliance_id AND is_active;

-- name: AllianceManagerListByUser :many
SELECT sqlc.embed(m), a.pnw_alliance_id, a.name AS alliance_name, a.route_slug
FROM alliance_managers m
JOIN alliances a ON a.id = m.alliance_id
WHERE m.user_id = @user_id AND m.is_active
ORDER BY a.name;

-- name: AllianceManagerListByAlliance :many
SELECT sqlc.embed(m), u.discord_id, u.discord_username, u.pnw_nation_id
FROM alliance_managers m
JOIN users u ON u.id = m.user_id
WHERE m.alliance_id = @alliance_id AND m.is_active
-- Highest role first; role is text, so rank it rather than sort it.
ORDER BY array_position(ARRAY['admin', 'manager', 'viewer'], m.role), m.id;

-- name: AllianceManagerSetKey :one
UPDATE alliance_managers
SET manager_api_key = @manager_api_key, key_permissions = @key_permissions,
    key_verified_at = now(), key_revoked_at = NULL, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: AllianceManagerClearKey :exec
UPDATE alliance_managers
SET manager_api_key = NULL, key_permissions = NULL, key_verified_at = NULL, key_revoked_at = NULL, updated_at = now()
WHERE id = @id;

-- name: AllianceManagerRetireKey :execrows
-- Deletes a key that may no longer act for the alliance (the game says its
-- nation is not a member), once: a key relinked meanwhile is left alone.
UPDATE alliance_managers
SET manager_api_key = NULL, key_permissions = NULL, key_verified_at = NULL, key_revoked_at = NULL, updated_at = now()
WHERE id = @id AND manager_api_key = @manager_api_key;

-- name: AllianceManagerRetireKeysOfUser :many
-- Deletes every alliance key of a user whose linked nation goes or
-- changes: each key proved that nation's membership.
UPDATE alliance_managers m
SET manager_api_key = NULL, key_permissions = NULL, key_verified_at = NULL, key_revoked_at = NULL, updated_at = now()
FROM alliances a
WHERE a.id = m.alliance_id AND m.user_id = @user_id AND m.manager_api_key IS NOT NULL
RETURNING m.id, m.alliance_id, a.name AS alliance_name;

-- name: AllianceManagerMarkKeyRevoked :execrows
-- Marks the key that was refused, once: a key relinked meanwhile, or one
-- already marked, is left alone (0 rows), so its owner is told once.
UPDATE alliance_managers SET key_revoked_at = now(), updated_at = now()
WHERE id = @id AND manager_api_key = @manager_api_key AND key_revoked_at IS NULL;

-- name: AllianceManagerDeactivate :execrows
UPDATE alliance_managers SET is_active = false, manager_api_key = NULL, updated_at = now()
WHERE user_id = @user_id AND alliance_id = @alliance_id AND is_active;

-- name: AllianceManagerListKeys :many
-- A page of stored manager keys with their owner's salt, for re-encryption.
SELECT m.id, m.user_id, m.alliance_id, u.key_salt, m.manager_api_key
FROM alliance_managers m
JOIN users u ON u.id = m.user_id
WHERE m.manager_api_key IS NOT NULL AND m.id > @after_id
ORDER BY m.id LIMIT @row_limit;

-- name: AllianceManagerReplaceKey :execrows
UPDATE alliance_managers SET manager_api_key = @new_key
WHERE id = @id AND manager_api_key = @old_key;

-- name: AllianceManagerUpdate :one
UPDATE alliance_managers SET role = @role, permissions = @permissions, updated_at = now()
WHERE id = @id AND is_active
RETURNING *;

-- name: AllianceManagerListUsableKeys :many
-- The alliance's usable manager keys (with need_bank, only those that may
-- see its bank), most recently verified first, with their owner's salt to
-- open them, Discord id to tell them when the game refuses one, and linked
-- nation.
SELECT sqlc.embed(m), u.key_salt, u.discord_id, u.pnw_nation_id
FROM alliance_managers m
JOIN users u ON u.id = m.user_id
WHERE m.alliance_id = @alliance_id AND m.is_active
  AND m.manager_api_key IS NOT NULL AND m.key_revoked_at IS NULL
  AND (NOT @need_bank::boolean OR coalesce((m.key_permissions ->> 'alliance_view_bank')::boolean, false))
ORDER BY m.key_verified_at DESC NULLS LAST, m.id;

-- name: AllianceManagerLockAdminOf :many
-- Locks, in id order, the alliances where the user is an active admin, as
-- /alliance managers remove locks its alliance: who is admin cannot change
-- under a check that the alliance keeps one.
SELECT a.id FROM alliances a
JOIN alliance_managers m ON m.alliance_id = a.id
WHERE m.user_id = @user_id AND m.is_active AND m.role = 'admin'
ORDER BY a.id
FOR UPDATE OF a;

-- name: AllianceManagerSoleAdminOf :many
-- The alliances whose only active admin able to manage settings is the
-- user: removing them would leave the alliance without one.
SELECT a.id, a.name FROM alliances a
JOIN alliance_managers m ON m.alliance_id = a.id
WHERE m.user_id = @user_id AND m.is_active AND m.role = 'admin'
  AND coalesce((m.permissions ->> 'canManageSettings')::boolean, true)
  AND NOT EXISTS (
    SELECT 1 FROM alliance_managers o
    WHERE o.alliance_id = a.id AND o.user_id <> @user_id AND o.is_active AND o.role = 'admin'
      AND coalesce((o.permissions ->> 'canManageSettings')::boolean, true))
ORDER BY a.name;
