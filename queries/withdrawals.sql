-- name: WithdrawalCreate :one
INSERT INTO withdrawals (alliance_id, requested_by, requester_discord_id, receiver_type, receiver_id, receiver_name, amounts, value, note, expires_at)
VALUES (@alliance_id, @requested_by, @requester_discord_id, @receiver_type, @receiver_id, @receiver_name, @amounts, @value, @note, @expires_at)
RETURNING *;

-- name: WithdrawalGet :one
SELECT * FROM withdrawals WHERE id = @id;

-- name: WithdrawalClaim :one
-- The only way to sending, and so to the game: a pending, unexpired row
-- moves once; every other caller gets no row.
UPDATE withdrawals SET state = 'sending', updated_at = now()
WHERE id = @id AND state = 'pending' AND expires_at > @now
RETURNING *;

-- name: WithdrawalFinish :one
-- Records the game's answer for a row this process claimed.
UPDATE withdrawals SET state = @state, bankrec_id = @bankrec_id, error = @error, updated_at = now()
WHERE id = @id AND state = 'sending'
RETURNING *;

-- name: WithdrawalClose :one
-- Cancels or expires a row nobody confirmed.
UPDATE withdrawals SET state = @state, updated_at = now()
WHERE id = @id AND state = 'pending'
RETURNING *;

-- name: WithdrawalSpentSince :one
-- What a manager (by Discord id: it outlives the account) has withdrawn,
-- or may have, since a time: sent, on its way, or unknown.
SELECT coalesce(sum(value), 0)::double precision FROM withdrawals
WHERE requester_discord_id = @requester_discord_id AND created_at >= @since AND state IN ('sending', 'sent', 'unknown');

-- name: WithdrawalAllianceSpentSince :one
-- What an alliance's managers together have withdrawn, or may have, since a time.
SELECT coalesce(sum(value), 0)::double precision FROM withdrawals
WHERE alliance_id = @alliance_id AND created_at >= @since AND state IN ('sending', 'sent', 'unknown');

-- name: WithdrawalListStale :many
-- Rows left behind: sending for longer than any handler lives (its process
-- died), or pending past their expiry.
SELECT * FROM withdrawals
WHERE (state = 'sending' AND updated_at < @sending_before) OR (state = 'pending' AND expires_at <= @now)
ORDER BY id LIMIT @row_limit;

-- name: WithdrawalLockRequester :exec
-- Serializes one manager's confirmations, so the daily cap holds under
-- concurrent clicks.
SELECT id FROM users WHERE id = @id FOR UPDATE;

-- name: WithdrawalLockAlliance :exec
-- Serializes an alliance's confirmations, so that its daily cap holds under
-- concurrent clicks; NO KEY UPDATE leaves rows that reference the alliance
-- (audit rows, withdrawals) free to be written meanwhile.
SELECT id FROM alliances WHERE id = @id FOR NO KEY UPDATE;
