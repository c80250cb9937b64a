-- name: SystemAdminUpsert :one
INSERT INTO system_admins (user_id, level, permissions, granted_by)
VALUES (@user_id, @level, @permissions, @granted_by)
ON CONFLICT (user_id) DO UPDATE
SET level = EXCLUDED.level, permissions = EXCLUDED.permissions, granted_by = EXCLUDED.granted_by, updated_at = now()
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
