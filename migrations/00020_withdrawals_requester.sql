-- +goose Up
-- The requester's Discord id stays on each withdrawal, so a manager's daily
-- spend survives /delete-account and being added again (requested_by goes
-- NULL with the account).
ALTER TABLE withdrawals ADD COLUMN requester_discord_id text NOT NULL DEFAULT '';
UPDATE withdrawals w SET requester_discord_id = u.discord_id FROM users u WHERE u.id = w.requested_by;
ALTER TABLE withdrawals ALTER COLUMN requester_discord_id DROP DEFAULT;
CREATE INDEX withdrawals_requester_discord_created_idx ON withdrawals (requester_discord_id, created_at DESC);

-- +goose Down
ALTER TABLE withdrawals DROP COLUMN requester_discord_id;
