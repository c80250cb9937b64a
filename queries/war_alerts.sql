-- name: WarAlertClaim :one
-- Claims the alert of a war for an alliance: no row when it was claimed
-- before, by this replica or another.
INSERT INTO war_alerts (alliance_id, war_id, kind, attacker_id, defender_id, channel_id, details)
VALUES (@alliance_id, @war_id, @kind, @attacker_id, @defender_id, @channel_id, @details)
ON CONFLICT (alliance_id, war_id) DO NOTHING
RETURNING *;

-- name: WarAlertReclaim :one
-- Claims again an alert claimed before stale_before and never sent (its
-- sender died or Discord failed): no row when another took it.
UPDATE war_alerts SET claimed_at = now()
WHERE id = @id AND sent_at IS NULL AND claimed_at < @stale_before
RETURNING *;

-- name: WarAlertUnsent :many
SELECT * FROM war_alerts WHERE sent_at IS NULL AND claimed_at < @stale_before ORDER BY id LIMIT 100;

-- name: WarAlertSent :exec
UPDATE war_alerts SET message_id = @message_id, sent_at = now(), details = @details WHERE id = @id;

-- name: WarAlertEnd :many
-- Marks a war's alerts ended: each row once.
UPDATE war_alerts SET ended = @ended, ended_at = now()
WHERE war_id = @war_id AND ended IS NULL
RETURNING *;

-- name: WarAlertEndEdited :exec
UPDATE war_alerts SET end_edited_at = now() WHERE id = @id;

-- name: WarAlertOpen :many
-- The alerts of wars not known to have ended, oldest first.
SELECT * FROM war_alerts WHERE ended IS NULL ORDER BY war_id LIMIT @row_limit;

-- name: WarAlertGet :one
SELECT * FROM war_alerts WHERE alliance_id = @alliance_id AND war_id = @war_id;

-- name: WarAlertOpenByAttacker :many
SELECT * FROM war_alerts WHERE alliance_id = @alliance_id AND attacker_id = @attacker_id AND ended IS NULL ORDER BY war_id;

-- name: WarAlertEndUnedited :many
-- Alerts of ended wars whose edit failed: the poll edits them again.
SELECT * FROM war_alerts
WHERE ended IS NOT NULL AND end_edited_at IS NULL AND message_id IS NOT NULL AND ended_at < @stale_before
ORDER BY id LIMIT 100;
