-- name: UserSessionCreate :one
INSERT INTO user_sessions (user_id, token_hash, ip_address, user_agent, expires_at)
VALUES (@user_id, @token_hash, @ip_address, @user_agent, @expires_at)
RETURNING *;

-- name: UserSessionGetActive :one
-- A session counts until it expires, is revoked, or sits unused since idle_since.
SELECT * FROM user_sessions
WHERE token_hash = @token_hash AND revoked_at IS NULL
  AND expires_at > @now::timestamptz AND last_used_at > @idle_since::timestamptz;

-- name: UserSessionListActive :many
SELECT * FROM user_sessions
WHERE user_id = @user_id AND revoked_at IS NULL
  AND expires_at > @now::timestamptz AND last_used_at > @idle_since::timestamptz
ORDER BY last_used_at DESC, id DESC;

-- name: UserSessionTouch :exec
UPDATE user_sessions SET last_used_at = @now::timestamptz WHERE id = @id;

-- name: UserSessionRevoke :one
UPDATE user_sessions SET revoked_at = now()
WHERE token_hash = @token_hash AND revoked_at IS NULL
RETURNING *;

-- name: UserSessionRevokeAllForUser :many
-- Returns the hashes revoked, for the cache to forget them.
UPDATE user_sessions SET revoked_at = now()
WHERE user_id = @user_id AND revoked_at IS NULL
RETURNING token_hash;

-- name: UserSessionDeleteExpired :execrows
DELETE FROM user_sessions WHERE id IN (
    SELECT s.id FROM user_sessions s WHERE s.expires_at < @before::timestamptz ORDER BY s.expires_at LIMIT @batch_size
);
