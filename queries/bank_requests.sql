-- name: BankRequestCreate :one
-- No row when its interaction already asked (a replay).
INSERT INTO bank_requests (alliance_id, user_id, nation_id, nation_name, kind, amounts, reason, due, interaction_id)
VALUES (@alliance_id, @user_id, @nation_id, @nation_name, @kind, @amounts, @reason, @due, @interaction_id::text)
ON CONFLICT (interaction_id) DO NOTHING
RETURNING *;

-- name: BankRequestGetByInteraction :one
SELECT * FROM bank_requests WHERE interaction_id = @interaction_id::text;

-- name: BankRequestGet :one
SELECT * FROM bank_requests WHERE id = @id;

-- name: BankRequestClaimPost :one
-- The one caller that posts a pending request in the bank channel: its
-- message_id is '' while that caller posts, until BankRequestSetMessage or
-- BankRequestUnclaimPost. A claim a minute old is taken over: its caller
-- stopped while posting (the REST client gives up on a post after 20 s).
-- No row when the request is posted, being posted, or decided.
UPDATE bank_requests SET message_id = '', updated_at = now()
WHERE id = @id AND state = 'pending'
  AND (message_id IS NULL OR message_id = '' AND updated_at < now() - interval '1 minute')
RETURNING *;

-- name: BankRequestSetMessage :exec
-- Where the request was posted for the bankers, by the caller that claimed
-- its post.
UPDATE bank_requests SET channel_id = @channel_id, message_id = @message_id, updated_at = now()
WHERE id = @id AND message_id = '';

-- name: BankRequestUnclaimPost :exec
-- A post that failed: the request is not posted, and a replay of its
-- interaction may post it.
UPDATE bank_requests SET message_id = NULL, updated_at = now() WHERE id = @id AND message_id = '';

-- name: BankRequestDecide :one
-- The one way out of pending: a request is approved or denied once, by
-- whoever moves it first; every other caller gets no row.
UPDATE bank_requests SET state = @state, decided_by = @decided_by, updated_at = now()
WHERE id = @id AND state = 'pending'
RETURNING *;

-- name: BankRequestReopen :one
-- An approval that sent nothing (refused before the game, or failed)
-- gives the request back to the bankers.
UPDATE bank_requests SET state = 'pending', decided_by = NULL, updated_at = now()
WHERE id = @id AND state = 'approved'
RETURNING *;

-- name: BankRequestSetWithdrawal :one
UPDATE bank_requests SET withdrawal_id = @withdrawal_id, updated_at = now() WHERE id = @id
RETURNING *;

-- name: BankRequestListPending :many
SELECT * FROM bank_requests WHERE alliance_id = @alliance_id AND state = 'pending' ORDER BY created_at, id;

-- name: BankRequestInFlight :many
-- A nation's withdraw requests approved whose bank record the ledger has
-- not stored yet (on their way, or maybe sent): their amounts are spoken
-- for.
SELECT r.amounts FROM bank_requests r
LEFT JOIN withdrawals w ON w.id = r.withdrawal_id
WHERE r.alliance_id = @alliance_id AND r.nation_id = @nation_id AND r.kind = 'withdraw' AND r.state = 'approved'
  AND (w.id IS NULL OR w.state IN ('pending', 'sending', 'sent', 'unknown'))
  AND NOT EXISTS (SELECT 1 FROM bank_records b WHERE b.alliance_id = r.alliance_id AND b.kind = 'bank' AND b.pnw_id::text = w.bankrec_id);
