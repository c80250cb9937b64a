-- +goose Up
-- interaction_id is the Discord interaction that wrote a banker's adjustment
-- or a member's request. A replay of that interaction (one the replay check
-- misses, across a Redis failover) finds its row taken and writes nothing.
-- NULL on game records and on rows written before it.
ALTER TABLE bank_records ADD COLUMN interaction_id text UNIQUE CHECK (interaction_id <> '');
ALTER TABLE bank_requests ADD COLUMN interaction_id text UNIQUE CHECK (interaction_id <> '');

-- +goose Down
ALTER TABLE bank_requests DROP COLUMN interaction_id;
ALTER TABLE bank_records DROP COLUMN interaction_id;
