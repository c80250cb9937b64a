-- +goose Up
-- Where an alliance's war alerts go: one channel per kind, with the role a
-- defensive alert pings.
CREATE TABLE war_alert_channels (
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('defensive', 'offensive')),
    channel_id         text NOT NULL CHECK (channel_id ~ '^[0-9]{1,20}$'),
    ping_role_id       text CHECK (ping_role_id ~ '^[0-9]{1,20}$'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alliance_id, kind)
);

-- One row per (alliance, war): the unique key makes every war alert once,
-- whichever of the stream and the poll, replica or restart saw it first.
-- A row is claimed (claimed_at) before its message is sent and marked sent
-- after; one claimed long ago and never sent is tried again by the poll.
CREATE TABLE war_alerts (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    war_id             bigint NOT NULL CHECK (war_id > 0),
    kind               text NOT NULL CHECK (kind IN ('defensive', 'offensive')),
    attacker_id        bigint NOT NULL,
    defender_id        bigint NOT NULL,
    channel_id         text NOT NULL,
    -- details is what the message shows (the war and both nations), kept
    -- to render it again when the war ends.
    details            jsonb NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    message_id         text,
    claimed_at         timestamptz NOT NULL DEFAULT now(),
    sent_at            timestamptz,
    -- How the war ended, once it has.
    ended              text CHECK (ended IN ('peace', 'attacker_won', 'defender_won', 'expired')),
    ended_at           timestamptz,
    end_edited_at      timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (alliance_id, war_id),
    CHECK ((message_id IS NULL) = (sent_at IS NULL))
);
CREATE INDEX war_alerts_war_id_idx ON war_alerts (war_id);
CREATE INDEX war_alerts_open_idx ON war_alerts (alliance_id) WHERE ended IS NULL;
CREATE INDEX war_alerts_unsent_idx ON war_alerts (claimed_at) WHERE sent_at IS NULL;

-- A war room: a private thread under the alert channel for the wars
-- against one attacker, archived when all of them ended.
CREATE TABLE war_rooms (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    attacker_id        bigint NOT NULL,
    channel_id         text NOT NULL,
    thread_id          text NOT NULL UNIQUE,
    archived_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX war_rooms_open_idx ON war_rooms (alliance_id, attacker_id) WHERE archived_at IS NULL;

-- +goose Down
DROP TABLE war_rooms;
DROP TABLE war_alerts;
DROP TABLE war_alert_channels;
