-- name: CacheGet :one
-- An expired entry is a miss even before retention deletes it.
SELECT data, expires_at, created_at FROM pnw_data_cache
WHERE cache_key = @cache_key AND expires_at > now();

-- name: CacheSet :exec
INSERT INTO pnw_data_cache (cache_key, data, tags, expires_at)
VALUES (@cache_key, @data, @tags, @expires_at)
ON CONFLICT (cache_key) DO UPDATE
SET data = EXCLUDED.data, tags = EXCLUDED.tags, expires_at = EXCLUDED.expires_at, created_at = now();

-- name: CacheDelete :exec
DELETE FROM pnw_data_cache WHERE cache_key = @cache_key;

-- name: CacheInvalidateTag :execrows
DELETE FROM pnw_data_cache WHERE tags @> ARRAY[@tag::text];

-- name: CacheDeleteExpired :execrows
-- Bounded batch so retention never holds long locks.
DELETE FROM pnw_data_cache WHERE cache_key IN (
    SELECT c.cache_key FROM pnw_data_cache c WHERE c.expires_at < @before::timestamptz ORDER BY c.expires_at LIMIT @batch_size
);
