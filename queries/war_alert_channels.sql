-- name: WarAlertChannelSet :one
INSERT INTO war_alert_channels (alliance_id, kind, channel_id, ping_role_id)
VALUES (@alliance_id, @kind, @channel_id, sqlc.narg(ping_role_id))
ON CONFLICT (alliance_id, kind) DO UPDATE
SET channel_id = EXCLUDED.channel_id, ping_role_id = EXCLUDED.ping_role_id, updated_at = now()
RETURNING *;

-- name: WarAlertChannelDelete :one
DELETE FROM war_alert_channels WHERE alliance_id = @alliance_id AND kind = @kind
RETURNING *;

-- name: WarAlertChannelList :many
SELECT * FROM war_alert_channels WHERE alliance_id = @alliance_id ORDER BY kind;

-- name: WarAlertChannelsAll :many
-- Every alert channel with its alliance's game id: what the stream follows.
SELECT c.alliance_id, a.pnw_alliance_id, c.kind, c.channel_id, c.ping_role_id, c.created_at
FROM war_alert_channels c JOIN alliances a ON a.id = c.alliance_id
ORDER BY a.pnw_alliance_id, c.kind;

-- name: WarAlertChannelsForWar :many
-- The channels a war alerts: the defender's alliance's defensive one and
-- the attacker's alliance's offensive one.
SELECT c.alliance_id, a.pnw_alliance_id, c.kind, c.channel_id, c.ping_role_id, c.created_at
FROM war_alert_channels c JOIN alliances a ON a.id = c.alliance_id
WHERE (c.kind = 'defensive' AND a.pnw_alliance_id = @defender_alliance_id)
   OR (c.kind = 'offensive' AND a.pnw_alliance_id = @attacker_alliance_id);
