-- name: AppConfigGet :one
SELECT * FROM app_config WHERE key = @key;

-- name: AppConfigSet :one
INSERT INTO app_config (key, value, category, data_type, description, updated_by)
VALUES (@key, @value, @category, @data_type, @description, @updated_by)
ON CONFLICT (key) DO UPDATE
SET value = EXCLUDED.value, category = EXCLUDED.category, data_type = EXCLUDED.data_type,
    description = EXCLUDED.description, updated_by = EXCLUDED.updated_by, updated_at = now()
RETURNING *;

-- name: AppConfigList :many
SELECT * FROM app_config
WHERE sqlc.narg(category)::text IS NULL OR category = sqlc.narg(category)
ORDER BY category, key;

-- name: AppConfigDelete :execrows
DELETE FROM app_config WHERE key = @key;
