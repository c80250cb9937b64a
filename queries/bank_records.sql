-- name: BankRecordInsertGame :execrows
-- Stores records read from the game (a pass or the stream), given as a JSON
-- array of objects, once each: a record already stored is skipped, so
-- overlapping reads count nothing twice.
INSERT INTO bank_records (alliance_id, kind, pnw_id, date, sender_id, sender_type, receiver_id, receiver_type,
                          banker_id, note, tax_id, amounts, nation_id)
SELECT @alliance_id, r.kind, r.pnw_id, r.date, r.sender_id, r.sender_type, r.receiver_id, r.receiver_type,
       r.banker_id, r.note, r.tax_id, r.amounts,
       CASE WHEN r.sender_type = 1 THEN r.sender_id WHEN r.receiver_type = 1 THEN r.receiver_id END
FROM jsonb_to_recordset(@records::jsonb)
     AS r (kind text, pnw_id bigint, date timestamptz, sender_id bigint, sender_type smallint, receiver_id bigint,
           receiver_type smallint, banker_id bigint, note text, tax_id bigint, amounts jsonb)
ON CONFLICT (alliance_id, kind, pnw_id) DO NOTHING;

-- name: BankRecordInsertAdjustment :one
-- A manual entry: the alliance credits (or, negative, debits) the nation.
-- No row when its interaction already wrote one (a replay).
INSERT INTO bank_records (alliance_id, kind, date, sender_id, sender_type, receiver_id, receiver_type, note, amounts, nation_id, created_by, interaction_id)
VALUES (@alliance_id, 'adjustment', @date, @alliance_pnw_id, 2, @nation_id, 1, @note, @amounts, @nation_id, @created_by, @interaction_id::text)
ON CONFLICT (interaction_id) DO NOTHING
RETURNING *;

-- name: BankRecordListNation :many
-- A nation's records in an alliance's ledger, in the order the rules fold
-- them.
SELECT * FROM bank_records
WHERE alliance_id = @alliance_id AND nation_id = @nation_id
ORDER BY date, id;

-- name: BankRecordListAlliance :many
-- Every record about a nation in an alliance's ledger, in fold order.
SELECT * FROM bank_records
WHERE alliance_id = @alliance_id AND nation_id IS NOT NULL
ORDER BY date, id;

-- name: BankRecordCount :one
SELECT count(*) FROM bank_records WHERE alliance_id = @alliance_id;
