-- +goose Up
-- Interaction ids the bot has handled lately, so that a replayed interaction
-- is refused (with Redis, they live there instead).
CREATE TABLE seen_interactions (
    interaction_id     text PRIMARY KEY CHECK (interaction_id <> ''),
    expires_at         timestamptz NOT NULL
);
CREATE INDEX seen_interactions_expires_at_idx ON seen_interactions (expires_at);

-- +goose Down
DROP TABLE seen_interactions;
