-- name: AuditMoveOpen :one
-- Records a move before it is sent; the unique index keeps one open move
-- per member.
INSERT INTO audit_bracket_moves (alliance_id, nation_id, from_bracket, to_bracket)
VALUES (@alliance_id, @nation_id, @from_bracket, @to_bracket)
ON CONFLICT (alliance_id, nation_id) WHERE restored_at IS NULL DO NOTHING
RETURNING *;

-- name: AuditMoveForget :exec
-- Forgets a move the game refused.
DELETE FROM audit_bracket_moves WHERE id = @id AND restored_at IS NULL;

-- name: AuditMoveListOpen :many
SELECT * FROM audit_bracket_moves WHERE alliance_id = @alliance_id AND restored_at IS NULL ORDER BY id;

-- name: AuditMoveGet :one
SELECT * FROM audit_bracket_moves WHERE id = @id;

-- name: AuditMoveRestore :execrows
-- Closes an open move once: 0 rows when it was already restored.
UPDATE audit_bracket_moves SET restored_at = now(), restored_by = @restored_by
WHERE id = @id AND restored_at IS NULL;

-- name: AuditMoveReopen :exec
-- Reopens a move whose way back the game refused.
UPDATE audit_bracket_moves SET restored_at = NULL, restored_by = NULL WHERE id = @id;

-- name: AuditMoveListUndone :many
-- When each member's latest move was undone by hand: the automation leaves
-- it alone until it is active again.
SELECT DISTINCT ON (nation_id) nation_id, restored_at
FROM audit_bracket_moves
WHERE alliance_id = @alliance_id AND restored_by = 'undo'
ORDER BY nation_id, restored_at DESC;
