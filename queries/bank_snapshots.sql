-- name: BankSnapshotInsert :execrows
-- The alliance's holdings of a day: the first read of the day stays.
INSERT INTO bank_snapshots (alliance_id, day, holdings, value) VALUES (@alliance_id, @day, @holdings, @value)
ON CONFLICT (alliance_id, day) DO NOTHING;

-- name: BankSnapshotTaken :one
SELECT EXISTS (SELECT 1 FROM bank_snapshots WHERE alliance_id = @alliance_id AND day = @day)::boolean;

-- name: BankSnapshotList :many
-- The alliance's snapshots since a day, oldest first.
SELECT * FROM bank_snapshots WHERE alliance_id = @alliance_id AND day >= @since ORDER BY day;
