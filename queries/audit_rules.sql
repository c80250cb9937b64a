-- Member audit rules (package ia); audit_logs is the log of who did what.

-- name: AuditRuleList :many
SELECT * FROM audit_rules WHERE alliance_id = @alliance_id
ORDER BY array_position(ARRAY['inactive', 'color', 'mmr', 'discord', 'applicant', 'military'], kind), min_cities;

-- name: AuditRuleGet :one
SELECT * FROM audit_rules WHERE alliance_id = @alliance_id AND kind = @kind AND min_cities = @min_cities;

-- name: AuditRuleUpsert :one
INSERT INTO audit_rules (alliance_id, kind, threshold, mmr, min_cities, created_by)
VALUES (@alliance_id, @kind, @threshold, @mmr, @min_cities, @created_by)
ON CONFLICT (alliance_id, kind, min_cities) DO UPDATE
SET threshold = EXCLUDED.threshold, mmr = EXCLUDED.mmr, created_by = EXCLUDED.created_by, updated_at = now()
RETURNING *;

-- name: AuditRuleDelete :many
-- Removes the alliance's rules of a kind: every one, or the one from
-- min_cities cities when given.
DELETE FROM audit_rules
WHERE alliance_id = @alliance_id AND kind = @kind
  AND (sqlc.narg(min_cities)::integer IS NULL OR min_cities = sqlc.narg(min_cities))
RETURNING *;
