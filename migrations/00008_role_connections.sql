-- +goose Up
-- A user's Discord OAuth2 grant for Linked Roles (scope role_connections.write),
-- kept so the bot can rewrite their role connection when their nation changes.
CREATE TABLE role_connections (
    user_id            bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Both tokens are sealed like game keys (package secrets), never plain text.
    access_token       bytea NOT NULL,
    refresh_token      bytea NOT NULL,
    token_expires_at   timestamptz NOT NULL,
    -- pushed is the metadata last written to Discord, to skip writes that change nothing.
    pushed             jsonb CHECK (jsonb_typeof(pushed) = 'object'),
    pushed_at          timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE role_connections;
