-- +goose Up
-- rate_limits becomes a sliding-window log: one row per identifier holding the
-- times of the requests it admitted in the last window. A check counts them
-- exactly, and one upsert (which locks the row) checks and records at once,
-- so concurrent checks queue on the row instead of both passing. The fixed
-- windows it replaces are counters that live a minute: nothing to keep.
DROP TABLE rate_limits;
CREATE TABLE rate_limits (
    identifier  text PRIMARY KEY CHECK (identifier <> ''),
    hits        timestamptz[] NOT NULL,  -- admitted requests in the window, oldest first
    admitted    boolean NOT NULL,        -- the latest check's answer, for its RETURNING
    expires_at  timestamptz NOT NULL     -- when the newest hit leaves the window
);
CREATE INDEX rate_limits_expires_at_idx ON rate_limits (expires_at);

-- +goose Down
DROP TABLE rate_limits;
CREATE TABLE rate_limits (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    identifier         text NOT NULL CHECK (identifier <> ''),
    window_start       timestamptz NOT NULL,
    window_end         timestamptz NOT NULL,
    requests           integer NOT NULL DEFAULT 0 CHECK (requests >= 0),
    max_requests       integer NOT NULL CHECK (max_requests > 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (identifier, window_start),
    CHECK (window_end > window_start)
);
CREATE INDEX rate_limits_window_end_idx ON rate_limits (window_end);
