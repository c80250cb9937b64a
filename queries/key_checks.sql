-- Queries of the daily key re-verification (package jobs, commands.VerifyKeys).

-- name: UserListKeysToVerify :many
-- A page, in id order, of usable member keys not checked since @checked_before.
SELECT * FROM users
WHERE pnw_api_key IS NOT NULL AND key_revoked_at IS NULL
  AND (key_verified_at IS NULL OR key_verified_at < @checked_before)
  AND id > @after_id
ORDER BY id LIMIT @row_limit;

-- name: AllianceManagerListKeysToVerify :many
-- A page, in id order, of usable manager keys not checked since
-- @checked_before, with what opening the key and telling its owner need.
SELECT sqlc.embed(m), u.key_salt, u.discord_id, a.name AS alliance_name, a.pnw_alliance_id
FROM alliance_managers m
JOIN users u ON u.id = m.user_id
JOIN alliances a ON a.id = m.alliance_id
WHERE m.manager_api_key IS NOT NULL AND m.key_revoked_at IS NULL AND m.is_active
  AND (m.key_verified_at IS NULL OR m.key_verified_at < @checked_before)
  AND m.id > @after_id
ORDER BY m.id LIMIT @row_limit;

-- name: AllianceManagerKeyVerified :execrows
-- Records a successful re-check of a manager's key, unless it changed meanwhile.
UPDATE alliance_managers SET key_permissions = @key_permissions, key_verified_at = now(), updated_at = now()
WHERE id = @id AND manager_api_key = @manager_api_key AND key_revoked_at IS NULL;
