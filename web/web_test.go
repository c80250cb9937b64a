package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store/storetest"
)

func get(t *testing.T, srv *http.Server, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	srv.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	body, err := io.ReadAll(w.Result().Body)
	require.NoError(t, err)
	return w.Code, string(body)
}

func TestServer(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	rdb, _ := storetest.NewRedis(t)
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "pnwbot_test_total", Help: "A test counter."})
	reg.MustRegister(counter)
	counter.Inc()

	srv := New(Options{
		Checks: []Check{
			{Name: "postgres", Ping: db.Pool.Ping},
			{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		},
		Interactions: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
		}),
	})
	require.Equal(t, ":8080", srv.Addr)
	require.NotZero(t, srv.ReadTimeout)
	require.NotZero(t, srv.ReadHeaderTimeout)
	require.NotZero(t, srv.WriteTimeout)
	require.NotZero(t, srv.IdleTimeout)

	code, body := get(t, srv, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	code, _ = get(t, srv, "/readyz")
	require.Equal(t, http.StatusOK, code)

	code, _ = get(t, srv, "/metrics")
	require.Equal(t, http.StatusNotFound, code, "metrics are on their own server")
	metrics := NewMetrics("127.0.0.1:9090", reg, nil)
	require.NotZero(t, metrics.ReadTimeout)
	code, body = get(t, metrics, "/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "pnwbot_test_total 1")
	code, _ = get(t, metrics, "/interactions")
	require.Equal(t, http.StatusNotFound, code)
	code, body = get(t, metrics, "/debug/pprof/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "allocs", "profiles are on the metrics server")
	code, _ = get(t, srv, "/debug/pprof/")
	require.Equal(t, http.StatusNotFound, code, "and only there")

	w := httptest.NewRecorder()
	srv.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/interactions", nil))
	require.Equal(t, http.StatusTeapot, w.Code)
}

func TestReadyzReportsFailures(t *testing.T) {
	t.Parallel()
	var pgErr error
	redisErr := errors.New("dial tcp 10.0.0.1:6379: refused")
	gatewayErr := errors.New("not connected")
	srv := New(Options{Checks: []Check{
		{Name: "postgres", Ping: func(context.Context) error { return pgErr }},
		{Name: "redis", Ping: func(context.Context) error { return redisErr }, Fallback: "the PostgreSQL fallback"},
		{Name: "discord_gateway", Ping: func(context.Context) error { return gatewayErr }},
	}, Details: func() []string { return []string{"unreadable stored keys: 2"} }})
	code, body := get(t, srv, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not ready: discord_gateway\nredis: down, the PostgreSQL fallback in use\nunreadable stored keys: 2\n", body)

	// Redis down with its fallback working: still ready, and says so.
	gatewayErr = nil
	code, body = get(t, srv, "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\nredis: down, the PostgreSQL fallback in use\nunreadable stored keys: 2\n", body)

	// The fallback down too: nothing serves.
	pgErr = errors.New("connection refused")
	code, body = get(t, srv, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not ready: postgres\nredis: down, the PostgreSQL fallback in use\nunreadable stored keys: 2\n", body)

	pgErr, redisErr = nil, nil
	code, body = get(t, srv, "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\nunreadable stored keys: 2\n", body, "details show when ready too")

	code, _ = get(t, srv, "/interactions")
	require.Equal(t, http.StatusNotFound, code, "no interactions handler, no route")
	code, _ = get(t, srv, "/metrics")
	require.Equal(t, http.StatusNotFound, code)
}

func TestShutdownWaitsForRequests(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := New(Options{Addr: "127.0.0.1:0", Interactions: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		_, _ = w.Write([]byte("done"))
	})})
	ts := httptest.NewUnstartedServer(srv.Handler)
	ts.Config = srv
	ts.Start()
	defer ts.Close()

	result := make(chan string)
	go func() {
		resp, err := http.Post(ts.URL+"/interactions", "application/json", nil)
		if err != nil {
			result <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		result <- string(b)
	}()
	<-arrived
	shutdown := make(chan error)
	go func() { shutdown <- srv.Shutdown(context.Background()) }()
	close(release)
	require.Equal(t, "done", <-result)
	require.NoError(t, <-shutdown)
}

// TestPageWaitingOnTheGameIsAnswered: a page that waits on the game for as
// long as the game client waits (pnw.DefaultTimeout, the game holding the
// request) still writes its answer whole: the write deadline outlasts the
// request's deadline, which outlasts a request to the game.
func TestPageWaitingOnTheGameIsAnswered(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, RequestTimeout, 2*pnw.DefaultTimeout, "a call and a retry")
	require.Greater(t, writeTimeout, RequestTimeout)

	game, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(game.Close)
	game.AddKey("botkey00000000000000", 1)
	t.Cleanup(game.Hold()) // the game never answers
	client, err := pnw.New(pnw.Options{URL: game.URL, APIKey: "botkey00000000000000"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close(context.Background()) })

	srv := New(Options{Addr: "127.0.0.1:0", Site: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := client.Nation(r.Context(), 1); err == nil {
			t.Error("the game answered")
		}
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = w.Write([]byte("The game did not answer in time."))
	})})
	ts := httptest.NewUnstartedServer(srv.Handler)
	ts.Config = srv
	ts.Start()
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/nations/1")
	require.NoError(t, err, "the connection was cut before the page could answer")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	require.Equal(t, "The game did not answer in time.", string(body))
}
