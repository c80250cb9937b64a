-- name: SystemAdminUpsert :one
INSERT INTO system_admins (user_id, level, permissions, granted_by, listed, granted_level)
VALUES (@user_id, @level, @permissions, @granted_by, @listed, @granted_level)
ON CONFLICT (user_id) DO UPDATE
SET level = EXCLUDED.level, permissions = EXCLUDED.permissions, granted_by = EXCLUDED.granted_by,
    listed = EXCLUDED.listed, granted_level = EXCLUDED.granted_level, updated_at = now()
RETURNING *;

-- name: SystemAdminGetByUser :one
SELECT * FROM system_admins WHERE user_id = @user_id;

-- name: SystemAdminList :many
SELECT sqlc.embed(a), u.discord_id, u.discord_username
FROM system_admins a
JOIN users u ON u.id = a.user_id
ORDER BY a.level DESC, a.id;

-- name: SystemAdminDelete :execrows
DELETE FROM system_admins WHERE user_id = @user_id;

-- name: SystemAdminLock :exec
-- Serializes changes of system admins, so that two revocations cannot
-- each leave the other as the last super admin and then both go.
LOCK TABLE system_admins IN SHARE ROW EXCLUSIVE MODE;

-- name: SystemAdminCountSuper :one
SELECT count(*)::bigint FROM system_admins WHERE level = 'super_admin';
