-- name: AuditChannelSet :one
INSERT INTO audit_channels (alliance_id, channel_id, hour)
VALUES (@alliance_id, @channel_id, @hour)
ON CONFLICT (alliance_id) DO UPDATE
SET channel_id = EXCLUDED.channel_id, hour = EXCLUDED.hour, updated_at = now()
RETURNING *;

-- name: AuditChannelGet :one
SELECT * FROM audit_channels WHERE alliance_id = @alliance_id;

-- name: AuditChannelListDue :many
-- The reports due on day at hour and not yet posted that day.
SELECT sqlc.embed(c), sqlc.embed(a)
FROM audit_channels c
JOIN alliances a ON a.id = c.alliance_id
WHERE c.hour <= @hour AND c.posted_on IS DISTINCT FROM @day::date
ORDER BY c.alliance_id;

-- name: AuditChannelClaim :execrows
-- Claims day's report for one replica: 0 rows when already claimed.
UPDATE audit_channels SET posted_on = @day::date, updated_at = now()
WHERE alliance_id = @alliance_id AND posted_on IS DISTINCT FROM @day::date;

-- name: AuditChannelRelease :exec
-- Gives back a claim whose post failed, so the next pass tries again.
UPDATE audit_channels SET posted_on = sqlc.narg(previous)::date, updated_at = now()
WHERE alliance_id = @alliance_id AND posted_on = @day::date;
