// Package adapter implements, over PostgreSQL, the small interfaces that bot,
// pnw and secrets declare: the rate limiter, the game cache, the interaction
// log, the usage sink and the key tables a rotation walks; and the failover
// that uses Redis for the first three while it answers. Those packages stay
// free of SQL and pgx; cmd/pnwbot wires these in.
package adapter
