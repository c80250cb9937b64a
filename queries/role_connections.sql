-- name: RoleConnectionUpsert :one
INSERT INTO role_connections (user_id, access_token, refresh_token, token_expires_at)
VALUES (@user_id, @access_token, @refresh_token, @token_expires_at)
ON CONFLICT (user_id) DO UPDATE
SET access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
    token_expires_at = EXCLUDED.token_expires_at, updated_at = now()
RETURNING *;

-- name: RoleConnectionGet :one
SELECT sqlc.embed(c), u.key_salt, u.pnw_nation_id
FROM role_connections c
JOIN users u ON u.id = c.user_id
WHERE c.user_id = @user_id;

-- name: RoleConnectionListUsers :many
SELECT user_id FROM role_connections WHERE user_id > @after_user_id ORDER BY user_id LIMIT @row_limit;

-- name: RoleConnectionSetPushed :exec
UPDATE role_connections SET pushed = @pushed, pushed_at = now(), updated_at = now()
WHERE user_id = @user_id;

-- name: RoleConnectionDelete :execrows
DELETE FROM role_connections WHERE user_id = @user_id;

-- name: RoleConnectionListTokens :many
-- A page of sealed grants with their owner's salt, for re-encryption.
SELECT c.user_id, u.key_salt, c.access_token, c.refresh_token
FROM role_connections c
JOIN users u ON u.id = c.user_id
WHERE c.user_id > @after_user_id
ORDER BY c.user_id LIMIT @row_limit;

-- name: RoleConnectionReplaceAccessToken :execrows
UPDATE role_connections SET access_token = @new_token
WHERE user_id = @user_id AND access_token = @old_token;

-- name: RoleConnectionReplaceRefreshToken :execrows
UPDATE role_connections SET refresh_token = @new_token
WHERE user_id = @user_id AND refresh_token = @old_token;

-- name: RoleConnectionListForAlliance :many
-- The role connections that may speak of an alliance: those last pushed as
-- its member, and those of nations now in it.
SELECT sqlc.embed(c), u.key_salt, u.pnw_nation_id
FROM role_connections c
JOIN users u ON u.id = c.user_id
WHERE c.pushed -> 'metadata' ->> 'alliance_id' = @alliance_id::text
   OR u.pnw_nation_id = ANY(@nation_ids::bigint[])
ORDER BY c.user_id;
