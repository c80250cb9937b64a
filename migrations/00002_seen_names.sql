-- +goose Up
-- like_escape makes text match itself literally in a LIKE pattern.
CREATE FUNCTION like_escape(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT replace(replace(replace(t, '\', '\\'), '%', '\%'), '_', '\_') $$;

-- Names of nations and alliances the bot has fetched from the game, so
-- autocomplete and "did you mean" answer without spending API requests.
CREATE TABLE seen_nations (
    nation_id          bigint PRIMARY KEY CHECK (nation_id > 0),
    nation_name        text NOT NULL,
    leader_name        text NOT NULL DEFAULT '',
    alliance_id        bigint NOT NULL DEFAULT 0,
    seen_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seen_nations_name_idx ON seen_nations (lower(nation_name) text_pattern_ops);
CREATE INDEX seen_nations_seen_at_idx ON seen_nations (seen_at);

CREATE TABLE seen_alliances (
    alliance_id        bigint PRIMARY KEY CHECK (alliance_id > 0),
    name               text NOT NULL,
    acronym            text NOT NULL DEFAULT '',
    seen_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seen_alliances_name_idx ON seen_alliances (lower(name) text_pattern_ops);
CREATE INDEX seen_alliances_acronym_idx ON seen_alliances (lower(acronym) text_pattern_ops);
CREATE INDEX seen_alliances_seen_at_idx ON seen_alliances (seen_at);

-- +goose Down
DROP TABLE seen_alliances;
DROP TABLE seen_nations;
DROP FUNCTION like_escape(text);
