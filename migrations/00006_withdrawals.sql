-- +goose Up
-- Withdrawals from an alliance bank. The state machine lives here so that
-- "at most once" is a property of the data: only the conditional update
-- pending -> sending may lead to the game's bankWithdraw.
--   pending -> sending -> sent | failed | unknown
--   pending -> cancelled (Cancel) | expired (not confirmed in time)
-- unknown (a timeout or an ambiguous answer) is final: never retried.
CREATE TABLE withdrawals (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    -- requested_by is the manager whose own key sends it.
    requested_by       bigint REFERENCES users (id) ON DELETE SET NULL,
    receiver_type      smallint NOT NULL CHECK (receiver_type IN (1, 2)),
    receiver_id        bigint NOT NULL CHECK (receiver_id > 0),
    receiver_name      text NOT NULL DEFAULT '',
    -- amounts maps money and resource names to positive amounts.
    amounts            jsonb NOT NULL CHECK (jsonb_typeof(amounts) = 'object' AND amounts <> '{}'),
    -- value is money plus resources at average trade prices, for the daily cap.
    value              double precision NOT NULL CHECK (value >= 0),
    note               text NOT NULL DEFAULT '',
    state              text NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown', 'cancelled', 'expired')),
    expires_at         timestamptz NOT NULL,
    -- bankrec_id is the game's bank record once sent; error says why it failed.
    bankrec_id         text,
    error              text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX withdrawals_alliance_created_idx ON withdrawals (alliance_id, created_at DESC);
CREATE INDEX withdrawals_requested_by_created_idx ON withdrawals (requested_by, created_at DESC);
CREATE INDEX withdrawals_open_idx ON withdrawals (updated_at) WHERE state IN ('pending', 'sending');

-- +goose Down
DROP TABLE withdrawals;
