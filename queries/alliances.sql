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
