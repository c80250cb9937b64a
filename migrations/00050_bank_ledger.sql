-- +goose Up
-- The bank ledger: every bank and tax record of a set-up alliance, kept
-- once by the game's id (the game answers only the last 14 days), plus
-- manual adjustments. Balances are never stored: they are the fold of these
-- rows (package bank, Fold), so they can always be recomputed.
CREATE TABLE bank_records (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    -- kind: a game bank record, a game tax record, or a manual adjustment.
    kind               text NOT NULL CHECK (kind IN ('bank', 'tax', 'adjustment')),
    -- pnw_id is the game's record id (bank and tax ids may share no space,
    -- so the key includes kind); NULL for adjustments.
    pnw_id             bigint CHECK ((pnw_id IS NULL) = (kind = 'adjustment')),
    date               timestamptz NOT NULL,
    -- Types: 1 nation, 2 alliance (the game's codes).
    sender_id          bigint NOT NULL,
    sender_type        smallint NOT NULL CHECK (sender_type IN (1, 2)),
    receiver_id        bigint NOT NULL,
    receiver_type      smallint NOT NULL CHECK (receiver_type IN (1, 2)),
    banker_id          bigint NOT NULL DEFAULT 0,
    note               text NOT NULL DEFAULT '',
    -- tax_id is the tax bracket of a tax record.
    tax_id             bigint,
    -- amounts maps money and resource names to amounts; an adjustment's may
    -- be negative.
    amounts            jsonb NOT NULL CHECK (jsonb_typeof(amounts) = 'object'),
    -- nation_id is the nation the record is about (its sender or receiver
    -- nation); NULL for records between alliances.
    nation_id          bigint,
    -- created_by is who made an adjustment.
    created_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (alliance_id, kind, pnw_id),
    CHECK (kind <> 'adjustment' OR nation_id IS NOT NULL)
);
CREATE INDEX bank_records_alliance_nation_idx ON bank_records (alliance_id, nation_id, date, id);
CREATE INDEX bank_records_alliance_date_idx ON bank_records (alliance_id, date, id);
CREATE INDEX bank_records_created_by_idx ON bank_records (created_by);

-- bank_ingest is each alliance's collection cursor: the last record of each
-- kind stored, and when a pass last read the game. It moves in the
-- transaction that stores the records, so a failed pass or a restart loses
-- nothing and counts nothing twice.
CREATE TABLE bank_ingest (
    alliance_id        bigint PRIMARY KEY REFERENCES alliances (id) ON DELETE CASCADE,
    last_bank_id       bigint NOT NULL DEFAULT 0,
    last_tax_id        bigint NOT NULL DEFAULT 0,
    -- first_read_at: the ledger holds records from 14 days before it.
    first_read_at      timestamptz NOT NULL DEFAULT now(),
    last_read_at       timestamptz NOT NULL DEFAULT now(),
    last_error         text,
    last_error_at      timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- bank_gaps are spans no pass read while the game still served them: their
-- records may be missing from the ledger. Reported, never silently lost.
CREATE TABLE bank_gaps (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    gap_from           timestamptz NOT NULL,
    gap_to             timestamptz NOT NULL CHECK (gap_to > gap_from),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_gaps_alliance_idx ON bank_gaps (alliance_id, gap_from);

-- bank_snapshots are the alliance's holdings once a day, for the chart.
CREATE TABLE bank_snapshots (
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    day                date NOT NULL,
    holdings           jsonb NOT NULL CHECK (jsonb_typeof(holdings) = 'object'),
    -- value is money plus resources at average trade prices that day.
    value              double precision NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alliance_id, day)
);

-- bank_requests are members' requests (withdraw, grant, loan) waiting for a
-- banker. Approval moves a row pending -> approved once (a conditional
-- update) and creates the withdrawal that sends it, through the
-- withdrawals state machine.
CREATE TABLE bank_requests (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    user_id            bigint REFERENCES users (id) ON DELETE SET NULL,
    nation_id          bigint NOT NULL CHECK (nation_id > 0),
    nation_name        text NOT NULL DEFAULT '',
    kind               text NOT NULL CHECK (kind IN ('withdraw', 'grant', 'loan')),
    amounts            jsonb NOT NULL CHECK (jsonb_typeof(amounts) = 'object' AND amounts <> '{}'),
    reason             text NOT NULL DEFAULT '',
    due                date,
    state              text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'denied')),
    decided_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    withdrawal_id      bigint REFERENCES withdrawals (id) ON DELETE SET NULL,
    channel_id         text,
    message_id         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_requests_alliance_state_idx ON bank_requests (alliance_id, state, created_at);
CREATE INDEX bank_requests_user_idx ON bank_requests (user_id);
CREATE INDEX bank_requests_decided_by_idx ON bank_requests (decided_by);
CREATE INDEX bank_requests_withdrawal_idx ON bank_requests (withdrawal_id);

-- +goose Down
DROP TABLE bank_requests;
DROP TABLE bank_snapshots;
DROP TABLE bank_gaps;
DROP TABLE bank_ingest;
DROP TABLE bank_records;
