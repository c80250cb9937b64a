// Package web is pnwbot's HTTP servers: health, readiness and Discord's
// interactions endpoint on one, metrics on another, so that exposing the
// first to Discord does not expose the metrics.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pnwbot/pnw"
)

// Check is one dependency /readyz pings, such as store.Pool.Ping or
// func(ctx context.Context) error { return rdb.Ping(ctx).Err() }.
type Check struct {
	Name string
	Ping func(context.Context) error
	// Fallback, when set, names what serves in its place while it fails:
	// the replica stays ready (a load balancer keeps it) if every check
	// without a fallback passes, and the answer says it is down.
	Fallback string
}

// Options configure the server.
type Options struct {
	// Addr is where to listen, ":8080" when empty.
	Addr string
	// Checks are pinged by /readyz.
	Checks []Check
	// Details, when set, returns lines /readyz adds to its answer, ready or
	// not: what an operator should know that does not stop the bot.
	Details func() []string
	// Interactions is served at /interactions when not nil.
	Interactions http.Handler
	// Site, when not nil, serves every other path: login, dashboard,
	// public pages.
	Site http.Handler
	// Front, when set, is put in front of every path (the demo's page).
	Front  func(http.Handler) http.Handler
	Logger *slog.Logger
}

// RequestTimeout bounds how long a request may wait on what it calls: a
// page that asks the game waits at most two requests to the game's
// timeout (a call and a retry after a short rest, or two calls), then its
// context ends and so do its waits, the game client's rests for a rate
// limit included.
const RequestTimeout = 2 * pnw.DefaultTimeout

// writeTimeout is RequestTimeout and the time to write what the request
// has to say once it ended (an error page when the game did not answer),
// so that no answer is cut mid-write. Discord waits 3 s for an
// interaction's answer; metrics and pings are quick.
const writeTimeout = RequestTimeout + 5*time.Second

// checkTimeout bounds each readiness ping.
const checkTimeout = 2 * time.Second

// New returns the server, every timeout set; run it with ListenAndServe and
// stop it with Shutdown, which waits for requests in flight.
func New(opts Options) *http.Server {
	if opts.Addr == "" {
		opts.Addr = ":8080"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", readyz(opts.Checks, opts.Details, opts.Logger))
	if opts.Interactions != nil {
		mux.Handle("/interactions", opts.Interactions)
	}
	if opts.Site != nil {
		mux.Handle("/", opts.Site)
	}
	var h http.Handler = mux
	if opts.Front != nil {
		h = opts.Front(mux)
	}
	return server(opts.Addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), RequestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	}), opts.Logger)
}

// NewMetrics returns the server of g's metrics at /metrics, on addr, with
// Go's profiles at /debug/pprof/ (CPU, allocations, goroutines...): they
// hold code locations and sizes, never data, and share the metrics'
// loopback default.
func NewMetrics(addr string, g prometheus.Gatherer, logger *slog.Logger) *http.Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	return server(addr, mux, logger)
}

func server(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// readyz answers 200 when every check without a fallback passes, else 503
// naming the failures; a failed check with a fallback adds a line saying
// so. The errors themselves go to the log, not to the caller. The details
// follow.
func readyz(checks []Check, details func() []string, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var failed, fallbacks []string
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			err := c.Ping(ctx)
			cancel()
			switch {
			case err == nil:
			case c.Fallback != "":
				logger.WarnContext(r.Context(), "readiness check failed; its fallback serves", "check", c.Name, "fallback", c.Fallback, "error", err)
				fallbacks = append(fallbacks, fmt.Sprintf("%s: down, %s in use", c.Name, c.Fallback))
			default:
				logger.WarnContext(r.Context(), "readiness check failed", "check", c.Name, "error", err)
				failed = append(failed, c.Name)
			}
		}
		lines := []string{"ok"}
		status := http.StatusOK
		if len(failed) > 0 {
			lines[0], status = "not ready: "+strings.Join(failed, ", "), http.StatusServiceUnavailable
		}
		lines = append(lines, fallbacks...)
		if details != nil {
			lines = append(lines, details()...)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(strings.Join(lines, "\n") + "\n"))
	}
}
