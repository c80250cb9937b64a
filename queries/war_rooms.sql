-- name: WarRoomOpen :one
SELECT * FROM war_rooms WHERE alliance_id = @alliance_id AND attacker_id = @attacker_id AND archived_at IS NULL;

-- name: WarRoomCreate :one
INSERT INTO war_rooms (alliance_id, attacker_id, channel_id, thread_id)
VALUES (@alliance_id, @attacker_id, @channel_id, @thread_id)
RETURNING *;

-- name: WarRoomArchive :one
UPDATE war_rooms SET archived_at = now() WHERE id = @id AND archived_at IS NULL
RETURNING *;
