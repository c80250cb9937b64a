-- name: BankIngestGet :one
SELECT * FROM bank_ingest WHERE alliance_id = @alliance_id;

-- name: BankIngestLock :one
-- Holds the alliance's cursor for one pass's transaction: two replicas
-- never move it at once.
INSERT INTO bank_ingest (alliance_id, first_read_at, last_read_at) VALUES (@alliance_id, @now, @now)
ON CONFLICT (alliance_id) DO UPDATE SET alliance_id = EXCLUDED.alliance_id
RETURNING *, (xmax = 0)::boolean AS created;

-- name: BankIngestAdvance :exec
-- Moves the cursor past the records stored in the same transaction.
UPDATE bank_ingest SET last_bank_id = greatest(last_bank_id, @last_bank_id), last_tax_id = greatest(last_tax_id, @last_tax_id),
    last_read_at = @read_at, last_error = NULL, last_error_at = NULL, updated_at = now()
WHERE alliance_id = @alliance_id;

-- name: BankIngestFailed :exec
-- Records why a pass could not read the alliance; the cursor stays.
UPDATE bank_ingest SET last_error = @error, last_error_at = @now::timestamptz, updated_at = now()
WHERE alliance_id = @alliance_id;

-- name: BankIngestAlliances :many
-- The alliances a pass reads: those with a usable manager key that may
-- see the bank, with their cursor (zero before the first pass), the most
-- caught-up first.
SELECT sqlc.embed(a), coalesce(i.last_bank_id, 0)::bigint AS last_bank_id, coalesce(i.last_tax_id, 0)::bigint AS last_tax_id
FROM alliances a
LEFT JOIN bank_ingest i ON i.alliance_id = a.id
WHERE EXISTS (
    SELECT 1 FROM alliance_managers m
    WHERE m.alliance_id = a.id AND m.is_active AND m.manager_api_key IS NOT NULL AND m.key_revoked_at IS NULL
      AND coalesce((m.key_permissions ->> 'alliance_view_bank')::boolean, false)
)
ORDER BY a.id;
