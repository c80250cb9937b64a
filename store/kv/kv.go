// Package kv holds pnwbot's storage backends for the small interfaces other
// packages declare, side by side: in Redis and in PostgreSQL the rate
// limiter (bot.Limiter), the interaction log (bot.InteractionLog) and the
// game cache (pnw.Cache); in Redis the session cache (site.SessionCache);
// in PostgreSQL the usage sink (pnw.UsageSink), the tables of sealed keys
// a rotation walks (secrets.KeyTable) and the once-only command
// registration; and the Failover that uses Redis while it answers and
// PostgreSQL when it does not. Only this package (and cmd) speaks to Redis;
// bot, pnw, web and secrets stay free of go-redis and pgx.
package kv
