-- name: AllianceUpsert :one
INSERT INTO alliances (pnw_alliance_id, name, acronym, route_slug, color, member_count, score, stats_updated_at)
VALUES (@pnw_alliance_id, @name, @acronym, @route_slug, @color, @member_count, @score, now())
ON CONFLICT (pnw_alliance_id) DO UPDATE
SET name = EXCLUDED.name, acronym = EXCLUDED.acronym, color = EXCLUDED.color,
    member_count = EXCLUDED.member_count, score = EXCLUDED.score,
    stats_updated_at = now(), updated_at = now()
RETURNING *;

-- name: AllianceGetByID :one
SELECT * FROM alliances WHERE id = @id;

-- name: AllianceGetByPnwID :one
SELECT * FROM alliances WHERE pnw_alliance_id = @pnw_alliance_id;

-- name: AllianceGetBySlug :one
SELECT * FROM alliances WHERE route_slug = @route_slug;

-- name: AllianceGetByGuild :one
SELECT * FROM alliances WHERE discord_guild_id = @discord_guild_id;

-- name: AllianceGetByGuildForUser :one
-- The server's alliance and the user's active manager row there, which an
-- alliance permission check reads next, in one round trip: the manager_
-- columns are NULL when the user manages nothing there.
SELECT sqlc.embed(a), m.id AS manager_id, m.role AS manager_role, m.permissions AS manager_permissions,
    m.manager_api_key, m.key_permissions AS manager_key_permissions, m.key_verified_at AS manager_key_verified_at,
    m.key_revoked_at AS manager_key_revoked_at, m.assigned_by AS manager_assigned_by,
    m.created_at AS manager_created_at, m.updated_at AS manager_updated_at
FROM alliances a
LEFT JOIN alliance_managers m ON m.alliance_id = a.id AND m.user_id = @user_id AND m.is_active
WHERE a.discord_guild_id = @discord_guild_id;

-- name: AllianceSetGuild :one
UPDATE alliances SET discord_guild_id = @discord_guild_id, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: AllianceUpdateSettings :one
UPDATE alliances SET settings = @settings, is_public = @is_public, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: AllianceList :many
SELECT * FROM alliances WHERE id > @after_id ORDER BY id LIMIT @row_limit;

-- name: AllianceDelete :execrows
DELETE FROM alliances WHERE id = @id;

-- name: AllianceLock :one
-- Serializes changes to one alliance's managers: the last-admin rule reads
-- them all and must not race another change.
SELECT id FROM alliances WHERE id = @id FOR UPDATE;

-- name: AllianceSetPublicSlug :one
UPDATE alliances SET is_public = @is_public, route_slug = @route_slug, updated_at = now()
WHERE id = @id
RETURNING *;
