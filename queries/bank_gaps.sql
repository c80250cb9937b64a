-- name: BankGapInsert :one
INSERT INTO bank_gaps (alliance_id, gap_from, gap_to) VALUES (@alliance_id, @gap_from, @gap_to)
RETURNING *;

-- name: BankGapList :many
SELECT * FROM bank_gaps WHERE alliance_id = @alliance_id ORDER BY gap_from;
