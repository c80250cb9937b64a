-- name: SeenNationUpsert :exec
INSERT INTO seen_nations (nation_id, nation_name, leader_name, alliance_id)
VALUES (@nation_id, @nation_name, @leader_name, @alliance_id)
ON CONFLICT (nation_id) DO UPDATE
SET nation_name = EXCLUDED.nation_name, leader_name = EXCLUDED.leader_name,
    alliance_id = EXCLUDED.alliance_id, seen_at = now();

-- name: SeenNationSearch :many
-- Prefix matches first, then names containing the text; most recent first.
-- The text is matched literally: LIKE's wildcards in it are escaped.
SELECT nation_id, nation_name, leader_name FROM seen_nations
WHERE lower(nation_name) LIKE '%' || like_escape(lower(@query::text)) || '%'
ORDER BY lower(nation_name) LIKE like_escape(lower(@query::text)) || '%' DESC, seen_at DESC, nation_name
LIMIT @row_limit;

-- name: SeenNationByName :one
SELECT nation_id, nation_name, leader_name FROM seen_nations
WHERE lower(nation_name) = lower(@nation_name::text)
ORDER BY seen_at DESC
LIMIT 1;

-- name: SeenAllianceUpsert :exec
INSERT INTO seen_alliances (alliance_id, name, acronym)
VALUES (@alliance_id, @name, @acronym)
ON CONFLICT (alliance_id) DO UPDATE
SET name = EXCLUDED.name, acronym = EXCLUDED.acronym, seen_at = now();

-- name: SeenAllianceSearch :many
SELECT alliance_id, name, acronym FROM seen_alliances
WHERE lower(name) LIKE '%' || like_escape(lower(@query::text)) || '%' OR lower(acronym) = lower(@query::text)
ORDER BY lower(acronym) = lower(@query::text) DESC, lower(name) LIKE like_escape(lower(@query::text)) || '%' DESC, seen_at DESC, name
LIMIT @row_limit;

-- name: SeenAllianceByName :one
SELECT alliance_id, name, acronym FROM seen_alliances
WHERE lower(name) = lower(@name::text) OR lower(acronym) = lower(@name::text)
ORDER BY lower(name) = lower(@name::text) DESC, seen_at DESC
LIMIT 1;

-- name: SeenNationDeleteBefore :execrows
DELETE FROM seen_nations WHERE nation_id IN (
    SELECT s.nation_id FROM seen_nations s WHERE s.seen_at < @before::timestamptz ORDER BY s.seen_at LIMIT @batch_size
);

-- name: SeenAllianceDeleteBefore :execrows
DELETE FROM seen_alliances WHERE alliance_id IN (
    SELECT s.alliance_id FROM seen_alliances s WHERE s.seen_at < @before::timestamptz ORDER BY s.seen_at LIMIT @batch_size
);
