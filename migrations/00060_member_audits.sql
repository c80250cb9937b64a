-- +goose Up
-- Member audits (package ia): the rules an alliance sets, where and when its
-- daily report goes, the reminders sent, and the inactive-bracket automation.
-- Not to be confused with audit_logs, the log of who did what.

CREATE TABLE audit_rules (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('inactive', 'color', 'mmr', 'discord', 'applicant', 'military')),
    -- days for inactive and applicant, percent for military; 0 otherwise.
    threshold          integer NOT NULL DEFAULT 0 CHECK (threshold >= 0),
    -- mmr: barracks, factories, hangars and drydocks per city.
    mmr                integer[] CHECK (mmr IS NULL OR (cardinality(mmr) = 4 AND 0 <= ALL (mmr))),
    -- mmr: the rule applies from this many cities (the highest that fits wins).
    min_cities         integer NOT NULL DEFAULT 0 CHECK (min_cities >= 0),
    created_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (alliance_id, kind, min_cities),
    CHECK ((kind = 'mmr') = (mmr IS NOT NULL)),
    CHECK (kind = 'mmr' OR min_cities = 0)
);
CREATE INDEX audit_rules_created_by_idx ON audit_rules (created_by);

-- The daily report: where, at which UTC hour, and the last UTC day it was
-- posted; claiming a day is a conditional update, so it is posted once
-- whatever the replicas.
CREATE TABLE audit_channels (
    alliance_id        bigint PRIMARY KEY REFERENCES alliances (id) ON DELETE CASCADE,
    channel_id         text NOT NULL CHECK (channel_id ~ '^[0-9]{1,20}$'),
    hour               smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
    posted_on          date,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- A reminder sent: once per rule, nation and UTC day (the primary key).
CREATE TABLE audit_reminders (
    rule_id            bigint NOT NULL REFERENCES audit_rules (id) ON DELETE CASCADE,
    nation_id          bigint NOT NULL CHECK (nation_id > 0),
    day                date NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, nation_id, day)
);
CREATE INDEX audit_reminders_day_idx ON audit_reminders (day);

-- The inactive-bracket automation: members inactive for days go to bracket,
-- with the key of the manager who set it. stopped_at: the key was refused.
CREATE TABLE audit_automations (
    alliance_id        bigint PRIMARY KEY REFERENCES alliances (id) ON DELETE CASCADE,
    days               integer NOT NULL CHECK (days > 0),
    bracket_id         bigint NOT NULL CHECK (bracket_id > 0),
    manager_id         bigint NOT NULL REFERENCES alliance_managers (id) ON DELETE CASCADE,
    stopped_at         timestamptz,
    stopped_reason     text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_automations_manager_idx ON audit_automations (manager_id);

-- A member the automation moved, with the bracket it came from (0: none);
-- open until restored (back because active again, or undone).
CREATE TABLE audit_bracket_moves (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    nation_id          bigint NOT NULL CHECK (nation_id > 0),
    from_bracket       bigint NOT NULL CHECK (from_bracket >= 0),
    to_bracket         bigint NOT NULL CHECK (to_bracket > 0),
    moved_at           timestamptz NOT NULL DEFAULT now(),
    restored_at        timestamptz,
    restored_by        text CHECK (restored_by IN ('active', 'undo', 'left')),
    CHECK ((restored_at IS NULL) = (restored_by IS NULL))
);
CREATE UNIQUE INDEX audit_bracket_moves_open_idx ON audit_bracket_moves (alliance_id, nation_id) WHERE restored_at IS NULL;

-- +goose Down
DROP TABLE audit_bracket_moves;
DROP TABLE audit_automations;
DROP TABLE audit_reminders;
DROP TABLE audit_channels;
DROP TABLE audit_rules;
