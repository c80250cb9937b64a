// Package adapter implements, over PostgreSQL, the small interfaces that bot,
// pnw and secrets declare: the rate limiter, the game cache, the usage sink
// and the key tables a rotation walks. Those packages stay free of SQL and
// pgx; cmd/pnwbot wires these in.
package adapter
