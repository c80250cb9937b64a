-- name: UserUpsertByDiscordID :one
-- key_salt is only used when the row is created; a user keeps one salt. An
-- empty username (an id known only from configuration) keeps the stored one.
INSERT INTO users (discord_id, discord_username, key_salt)
VALUES (@discord_id, @discord_username, @key_salt)
ON CONFLICT (discord_id) DO UPDATE
SET discord_username = coalesce(nullif(EXCLUDED.discord_username, ''), users.discord_username), updated_at = now()
RETURNING *;

-- name: UserGetByDiscordID :one
SELECT * FROM users WHERE discord_id = @discord_id;

-- name: UserGetCaller :one
-- The invoker of an interaction, with the roles handlers read beside the
-- row, in one query: their system admin level and permissions (NULL when
-- none) and their active manager roles, by alliance name.
SELECT sqlc.embed(u), sa.level AS admin_level, sa.permissions AS admin_permissions,
    coalesce(mg.roles, '{}')::text[] AS manager_roles,
    coalesce(mg.names, '{}')::text[] AS managed_names,
    coalesce(mg.pnw_ids, '{}')::bigint[] AS managed_pnw_ids
FROM users u
LEFT JOIN system_admins sa ON sa.user_id = u.id
CROSS JOIN LATERAL (
    SELECT array_agg(m.role ORDER BY a.name, a.id) AS roles, array_agg(a.name ORDER BY a.name, a.id) AS names,
        array_agg(a.pnw_alliance_id ORDER BY a.name, a.id) AS pnw_ids
    FROM alliance_managers m JOIN alliances a ON a.id = m.alliance_id
    WHERE m.user_id = u.id AND m.is_active
) mg
WHERE u.discord_id = @discord_id;

-- name: UserGetByID :one
SELECT * FROM users WHERE id = @id;

-- name: UserGetByNationID :one
SELECT * FROM users WHERE pnw_nation_id = @pnw_nation_id;

-- name: UserLinkNation :one
-- Fails with users_pnw_nation_id_key when another user holds the nation.
UPDATE users
SET pnw_nation_id = @pnw_nation_id, pnw_api_key = @pnw_api_key, key_permissions = @key_permissions,
    key_verified_at = now(), key_revoked_at = NULL, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: UserUnlink :one
-- The key proved the nation, so both go together.
UPDATE users
SET pnw_nation_id = NULL, pnw_api_key = NULL, key_permissions = NULL,
    key_verified_at = NULL, key_revoked_at = NULL, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: UserMarkKeyRevoked :execrows
-- Only the key that was refused: a key relinked meanwhile stays valid.
UPDATE users SET key_revoked_at = now(), updated_at = now()
WHERE id = @id AND pnw_api_key = @pnw_api_key AND key_revoked_at IS NULL;

-- name: UserSetPreferences :one
UPDATE users SET preferences = @preferences, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: UserDelete :execrows
DELETE FROM users WHERE id = @id;

-- name: UserList :many
SELECT * FROM users WHERE id > @after_id ORDER BY id LIMIT @row_limit;

-- name: UserCount :one
SELECT count(*)::bigint AS users, count(pnw_api_key)::bigint AS linked FROM users;

-- name: UserListKeys :many
-- A page of stored keys for re-encryption, in id order.
SELECT id, key_salt, pnw_api_key FROM users
WHERE pnw_api_key IS NOT NULL AND id > @after_id
ORDER BY id LIMIT @row_limit;

-- name: UserReplaceKey :execrows
-- Compare-and-swap so a key relinked meanwhile is never overwritten.
UPDATE users SET pnw_api_key = @new_key
WHERE id = @id AND pnw_api_key = @old_key;

-- name: UserKeyVerified :execrows
-- Records a successful re-check of the stored key, unless it changed meanwhile.
UPDATE users SET key_permissions = @key_permissions, key_verified_at = now(), key_revoked_at = NULL
WHERE id = @id AND pnw_api_key = @pnw_api_key;

-- name: UserCreate :one
-- Returns no row when the Discord id exists already (a concurrent first contact).
INSERT INTO users (discord_id, discord_username, key_salt)
VALUES (@discord_id, @discord_username, @key_salt)
ON CONFLICT (discord_id) DO NOTHING
RETURNING *;

-- name: UserListByNationIDs :many
SELECT id, discord_id, pnw_nation_id FROM users WHERE pnw_nation_id = ANY(@nation_ids::bigint[]);

-- name: UserSetLastLogin :exec
UPDATE users SET last_login_at = @now::timestamptz WHERE id = @id;

-- name: UserListPreferencesByNationIDs :many
SELECT pnw_nation_id, preferences FROM users WHERE pnw_nation_id = ANY(@nation_ids::bigint[]);
