-- name: UserSessionCreate :one
INSERT INTO user_sessions (user_id, token_hash, ip_address, user_agent, expires_at)
VALUES (@user_id, @token_hash, @ip_address, @user_agent, @expires_at)
RETURNING *;

-- name: UserSessionGetActive :one
SELECT * FROM user_sessions
WHERE token_hash = @token_hash AND revoked_at IS NULL AND expires_at > now();

-- name: UserSessionTouch :exec
UPDATE user_sessions SET last_used_at = now() WHERE id = @id;

-- name: UserSessionRevoke :execrows
UPDATE user_sessions SET revoked_at = now()
WHERE token_hash = @token_hash AND revoked_at IS NULL;

-- name: UserSessionRevokeAllForUser :execrows
UPDATE user_sessions SET revoked_at = now()
WHERE user_id = @user_id AND revoked_at IS NULL;

-- name: UserSessionDeleteExpired :execrows
DELETE FROM user_sessions WHERE id IN (
    SELECT s.id FROM user_sessions s WHERE s.expires_at < @before::timestamptz ORDER BY s.expires_at LIMIT @batch_size
);
