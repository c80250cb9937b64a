package bot

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// gatewayState is the bot's view of its gateway connection, for metrics and
// readiness.
type gatewayState struct {
	up         atomic.Bool
	connected  atomic.Bool // once, ever: later connections are reconnections
	upGauge    prometheus.Gauge
	reconnects prometheus.Counter
}

// onConnect handles discordgo's Connect event.
func (g *gatewayState) onConnect() {
	g.set(true)
	if g.connected.Swap(true) {
		g.reconnects.Inc()
	}
}

func (g *gatewayState) set(up bool) {
	g.up.Store(up)
	if up {
		g.upGauge.Set(1)
	} else {
		g.upGauge.Set(0)
	}
}

// newGatewayMetrics registers on reg the gateway metrics.
func newGatewayMetrics(reg prometheus.Registerer) (*gatewayState, error) {
	g := &gatewayState{
		upGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pnwbot_gateway_connected",
			Help: "1 while the Discord gateway is connected, else 0.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pnwbot_gateway_reconnects_total",
			Help: "Gateway connections after the first one.",
		}),
	}
	for _, c := range []prometheus.Collector{g.upGauge, g.reconnects} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// newRESTMetrics registers on reg the counter of failed REST requests.
func newRESTMetrics(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	restErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pnwbot_discord_rest_errors_total",
		Help: `Discord REST requests that failed, by HTTP status ("429" when rate limited) or "network" when no answer came.`,
	}, []string{"status"})
	return restErrors, reg.Register(restErrors)
}

// CheckGateway is a readiness check: it fails while the gateway is not
// connected.
func (b *Bot) CheckGateway(context.Context) error {
	if !b.gateway.up.Load() {
		return errors.New("discord gateway not connected")
	}
	return nil
}

// countErrors counts, in errs, every REST answer of 400 or above and every
// request that got none (except those cancelled by the bot itself).
func countErrors(next http.RoundTripper, errs *prometheus.CounterVec) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		switch {
		case err != nil && r.Context().Err() == nil:
			errs.WithLabelValues("network").Inc()
		case err == nil && resp.StatusCode >= 400:
			errs.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
		}
		return resp, err
	})
}
