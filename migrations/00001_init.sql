-- +goose Up

-- +goose StatementBegin
-- app_config_value_valid reports whether value parses as data_type; the CHECK
-- on app_config relies on it so a bad value never reaches the application.
CREATE FUNCTION app_config_value_valid(value text, data_type text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE data_type
    WHEN 'string' THEN
        RETURN true;
    WHEN 'number' THEN
        -- The cast rejects what a float64 cannot hold, such as 1e999.
        RETURN value ~ '^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$'
            AND value::double precision IS NOT NULL;
    WHEN 'boolean' THEN
        RETURN value IN ('true', 'false');
    WHEN 'json' THEN
        PERFORM value::jsonb;
        RETURN true;
    ELSE
        RETURN false;
    END CASE;
-- Any failure to parse (bad syntax, \u0000 in JSON, nesting too deep, a
-- number out of range) is a value that does not match its type.
EXCEPTION WHEN others THEN
    RETURN false;
END;
$$;
-- +goose StatementEnd

CREATE TABLE users (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    discord_id         text NOT NULL UNIQUE CHECK (discord_id ~ '^[0-9]{1,20}$'),
    discord_username   text NOT NULL DEFAULT '',
    pnw_nation_id      bigint UNIQUE CHECK (pnw_nation_id > 0),
    -- pnw_api_key is the sealed key (see package secrets); never plain text.
    pnw_api_key        bytea,
    -- key_salt feeds the per-row key derivation for every key this user owns.
    key_salt           bytea NOT NULL CHECK (length(key_salt) = 16),
    key_permissions    jsonb,
    key_verified_at    timestamptz,
    key_revoked_at     timestamptz,
    preferences        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(preferences) = 'object'),
    permissions        jsonb NOT NULL DEFAULT '{"canViewOwnData": true, "canEditOwnProfile": true, "canLinkApiKey": true, "canDeleteAccount": true}'
                       CHECK (jsonb_typeof(permissions) = 'object'),
    last_login_at      timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_key_needs_nation CHECK (pnw_api_key IS NULL OR pnw_nation_id IS NOT NULL)
);

CREATE TABLE alliances (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pnw_alliance_id    bigint NOT NULL UNIQUE CHECK (pnw_alliance_id > 0),
    name               text NOT NULL CHECK (name <> ''),
    acronym            text NOT NULL DEFAULT '',
    route_slug         text NOT NULL UNIQUE
                       CHECK (route_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(route_slug) <= 64),
    discord_guild_id   text UNIQUE CHECK (discord_guild_id ~ '^[0-9]{1,20}$'),
    is_public          boolean NOT NULL DEFAULT false,
    settings           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    member_count       integer CHECK (member_count >= 0),
    score              double precision,
    color              text,
    stats_updated_at   timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alliance_managers (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    alliance_id        bigint NOT NULL REFERENCES alliances (id) ON DELETE CASCADE,
    role               text NOT NULL CHECK (role IN ('viewer', 'manager', 'admin')),
    -- permissions holds per-manager overrides on top of the role's preset.
    permissions        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(permissions) = 'object'),
    manager_api_key    bytea,
    key_permissions    jsonb,
    key_verified_at    timestamptz,
    key_revoked_at     timestamptz,
    is_active          boolean NOT NULL DEFAULT true,
    assigned_by        bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, alliance_id)
);
CREATE INDEX alliance_managers_alliance_id_idx ON alliance_managers (alliance_id);
CREATE INDEX alliance_managers_user_active_idx ON alliance_managers (user_id) WHERE is_active;
CREATE INDEX alliance_managers_assigned_by_idx ON alliance_managers (assigned_by);

CREATE TABLE system_admins (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            bigint NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    level              text NOT NULL CHECK (level IN ('admin', 'super_admin')),
    permissions        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(permissions) = 'object'),
    granted_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX system_admins_granted_by_idx ON system_admins (granted_by);

CREATE TABLE user_sessions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Only the SHA-256 of the session token is stored.
    token_hash         bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    ip_address         inet,
    user_agent         text NOT NULL DEFAULT '',
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    last_used_at       timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_at > created_at)
);
CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_user_active_idx ON user_sessions (user_id, expires_at) WHERE revoked_at IS NULL;
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at);

CREATE TABLE audit_logs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- ON DELETE SET NULL: the event outlives the account, the personal link does not.
    user_id            bigint REFERENCES users (id) ON DELETE SET NULL,
    alliance_id        bigint REFERENCES alliances (id) ON DELETE SET NULL,
    action             text NOT NULL CHECK (action ~ '^[a-z0-9_.]+$'),
    resource_type      text NOT NULL DEFAULT '',
    resource_id        text NOT NULL DEFAULT '',
    old_values         jsonb,
    new_values         jsonb,
    success            boolean NOT NULL DEFAULT true,
    ip_address         inet,
    user_agent         text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_user_created_idx ON audit_logs (user_id, created_at DESC, id DESC);
CREATE INDEX audit_logs_alliance_created_idx ON audit_logs (alliance_id, created_at DESC, id DESC);
CREATE INDEX audit_logs_action_created_idx ON audit_logs (action, created_at DESC, id DESC);
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at DESC, id DESC);

CREATE TABLE api_usage_logs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            bigint REFERENCES users (id) ON DELETE SET NULL,
    alliance_id        bigint REFERENCES alliances (id) ON DELETE SET NULL,
    endpoint           text NOT NULL CHECK (endpoint <> ''),
    query_hash         text NOT NULL DEFAULT '',
    status_code        integer NOT NULL CHECK (status_code BETWEEN 0 AND 599),
    response_time_ms   integer NOT NULL CHECK (response_time_ms >= 0),
    cache_hit          boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_usage_logs_user_created_idx ON api_usage_logs (user_id, created_at);
CREATE INDEX api_usage_logs_alliance_created_idx ON api_usage_logs (alliance_id, created_at);
CREATE INDEX api_usage_logs_endpoint_created_idx ON api_usage_logs (endpoint, created_at);
CREATE INDEX api_usage_logs_created_idx ON api_usage_logs (created_at);

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

CREATE TABLE pnw_data_cache (
    cache_key          text PRIMARY KEY CHECK (cache_key <> ''),
    data               jsonb NOT NULL,
    tags               text[] NOT NULL DEFAULT '{}',
    expires_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);
-- A partial "unexpired" index cannot reference now() (predicates must be
-- immutable), so reads filter on expires_at through this index instead.
CREATE INDEX pnw_data_cache_expires_at_idx ON pnw_data_cache (expires_at);
CREATE INDEX pnw_data_cache_tags_idx ON pnw_data_cache USING gin (tags);

CREATE TABLE app_config (
    key                text PRIMARY KEY CHECK (key ~ '^[a-z0-9_.]+$'),
    value              text NOT NULL,
    category           text NOT NULL DEFAULT 'general',
    data_type          text NOT NULL CHECK (data_type IN ('string', 'number', 'boolean', 'json')),
    description        text NOT NULL DEFAULT '',
    updated_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT app_config_value_matches_type CHECK (app_config_value_valid(value, data_type))
);
CREATE INDEX app_config_category_idx ON app_config (category);
CREATE INDEX app_config_updated_by_idx ON app_config (updated_by);

-- +goose Down
DROP TABLE app_config;
DROP TABLE pnw_data_cache;
DROP TABLE rate_limits;
DROP TABLE api_usage_logs;
DROP TABLE audit_logs;
DROP TABLE user_sessions;
DROP TABLE system_admins;
DROP TABLE alliance_managers;
DROP TABLE alliances;
DROP TABLE users;
DROP FUNCTION app_config_value_valid(text, text);
