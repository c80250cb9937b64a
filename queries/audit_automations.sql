-- name: AuditAutomationSet :one
INSERT INTO audit_automations (alliance_id, days, bracket_id, manager_id)
VALUES (@alliance_id, @days, @bracket_id, @manager_id)
ON CONFLICT (alliance_id) DO UPDATE
SET days = EXCLUDED.days, bracket_id = EXCLUDED.bracket_id, manager_id = EXCLUDED.manager_id,
    stopped_at = NULL, stopped_reason = '', updated_at = now()
RETURNING *;

-- name: AuditAutomationGet :one
SELECT * FROM audit_automations WHERE alliance_id = @alliance_id;

-- name: AuditAutomationDelete :one
DELETE FROM audit_automations WHERE alliance_id = @alliance_id RETURNING *;

-- name: AuditAutomationListRunning :many
-- The automations to run, with the key they act with and its owner.
SELECT sqlc.embed(au), sqlc.embed(a), sqlc.embed(m), u.key_salt, u.discord_id
FROM audit_automations au
JOIN alliances a ON a.id = au.alliance_id
JOIN alliance_managers m ON m.id = au.manager_id
JOIN users u ON u.id = m.user_id
WHERE au.stopped_at IS NULL
ORDER BY au.alliance_id;

-- name: AuditAutomationStop :execrows
-- Stops a running automation once: 0 rows when already stopped.
UPDATE audit_automations SET stopped_at = now(), stopped_reason = @reason, updated_at = now()
WHERE alliance_id = @alliance_id AND stopped_at IS NULL;
