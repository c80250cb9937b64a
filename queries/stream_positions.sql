-- name: StreamPositionGet :one
SELECT * FROM stream_positions WHERE stream = @stream;

-- name: StreamPositionAdvance :exec
-- Moves the position forward only: a replica that lost the stream and
-- saves late never takes it back.
INSERT INTO stream_positions (stream, millis, nanos) VALUES (@stream, @millis, @nanos)
ON CONFLICT (stream) DO UPDATE SET millis = EXCLUDED.millis, nanos = EXCLUDED.nanos, updated_at = now()
WHERE (stream_positions.millis, stream_positions.nanos) < (EXCLUDED.millis, EXCLUDED.nanos);
