package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/bot/discordtest"
	"pnwbot/store/storetest"
)

// readyz returns /readyz's status and answer.
func (o *outage) readyz() (int, string) {
	o.t.Helper()
	resp, err := http.Get("http://" + o.a.listener.Addr().String() + "/readyz")
	require.NoError(o.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(o.t, err)
	return resp.StatusCode, string(body)
}

// With Redis killed the bot serves through its PostgreSQL fallback, so it
// stays ready (a load balancer keeps it) and /readyz says Redis is down;
// with PostgreSQL gone too, nothing serves and it is not ready.
func TestReadyDuringRedisOutage(t *testing.T) {
	t.Parallel()
	pg := storetest.StartPostgres(t)
	rds := storetest.StartRedis(t)
	o := startOutage(t, pg.NewDB(t).Pool.Config().ConnString(), rds.RedisURL(), redisPrefix)
	code, body := o.readyz()
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\nunreadable stored keys: 0\n", body)

	rds.Kill()
	user := o.newUser()
	o.link(user)
	require.Len(t, o.send(user, discordtest.Command("/me")).Embeds, 1, "served through PostgreSQL")
	code, body = o.readyz()
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\nredis: down, the PostgreSQL fallback in use\nunreadable stored keys: 0\n", body)

	pg.Stop()
	code, body = o.readyz()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not ready: postgres\nredis: down, the PostgreSQL fallback in use\nunreadable stored keys: 0\n", body)
}
