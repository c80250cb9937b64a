package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/config"
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
	require.Len(t, o.send(user, fakediscord.Command("/me")).Embeds, 1, "served through PostgreSQL")
	code, body = o.readyz()
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\nredis: down, the PostgreSQL fallback in use\nunreadable stored keys: 0\n", body)

	pg.Stop()
	code, body = o.readyz()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not ready: postgres\nredis: down, the PostgreSQL fallback in use\nunreadable stored keys: 0\n", body)
}

// A burst of commands far larger than the pool, without Redis (rate
// limits, replay ids and cache all in PostgreSQL), on a healthy database:
// every command answers as it would alone, and the breaker stays closed.
func TestCommandBurst(t *testing.T) {
	t.Parallel()
	o := startOutage(t, storetest.NewDB(t).Pool.Config().ConnString(), "", redisPrefix, config.DatabasePoolSize, "2")
	want := o.send(o.newUser(), fakediscord.Command("/me")).Content // not linked yet
	require.Contains(t, want, "/link")

	const burst = 50
	replies := make(chan *fakediscord.Reply, burst)
	errs := make(chan error, burst)
	for range burst {
		i := fakediscord.As(&discordgo.User{ID: o.newUser(), Username: "burst"}, fakediscord.Command("/me"))
		go func() {
			r, err := o.reply(i)
			if err != nil {
				errs <- err
				return
			}
			replies <- r
		}()
	}
	for range burst {
		select {
		case err := <-errs:
			t.Fatal(err)
		case r := <-replies:
			require.Equal(t, want, r.Content)
		}
	}
	require.Equal(t, "pnwbot_postgres_breaker_state 0", o.metric("pnwbot_postgres_breaker_state"))
}

// reply sends i and returns its answer, after a deferral when there is one.
func (o *outage) reply(i *discordgo.Interaction) (*fakediscord.Reply, error) {
	if err := o.discord.SendInteraction(i); err != nil {
		return nil, err
	}
	r, err := o.discord.WaitResponse(o.ctx, i.ID)
	if err != nil || r.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		return r, err
	}
	r, _, err = o.discord.WaitDelivery(o.ctx, i.Token)
	return r, err
}
