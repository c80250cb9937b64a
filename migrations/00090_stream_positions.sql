-- +goose Up
-- Where a stream of the game's subscriptions is: the time of the newest
-- event seen, per model and event ('war/create'), as the game's metadata
-- stamps it (millis, and nanos within them). The replica that takes a
-- stream over, or one restarted, asks the game to replay from it.
CREATE TABLE stream_positions (
    stream             text PRIMARY KEY CHECK (stream <> ''),
    millis             bigint NOT NULL,
    nanos              bigint NOT NULL CHECK (nanos >= 0),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE stream_positions;
