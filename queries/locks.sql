-- name: AdvisoryXactLock :exec
-- Waits for, then holds until the transaction ends, the lock named @lock_id:
-- what replicas must do one at a time.
SELECT pg_advisory_xact_lock(@lock_id::bigint);
