package pnw

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	calls        *prometheus.CounterVec   // by operation and outcome
	cache        *prometheus.CounterVec   // by operation and result: hit, miss, stale
	upstream     *prometheus.HistogramVec // upstream request latency by operation and status
	usageDropped prometheus.Counter
}

// newMetrics builds the collectors and registers them on reg when not nil.
// Labels never carry keys: only operation names, outcomes and statuses.
// ownRemaining reads the bot key's remaining daily requests for its gauge.
func newMetrics(reg prometheus.Registerer, ownRemaining func() float64) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pnw_calls_total",
			Help: "Calls to the game's API client, by operation and outcome.",
		}, []string{"operation", "outcome"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pnw_cache_lookups_total",
			Help: "Cache lookups by operation and result (hit, miss, stale).",
		}, []string{"operation", "result"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pnw_upstream_request_duration_seconds",
			Help:    "Requests sent to the game's API, by operation and HTTP status (0: no response).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "status"}),
		usageDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pnw_usage_log_dropped_total",
			Help: "api_usage_logs rows dropped because the buffer was full or the write failed.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	remaining := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pnw_api_key_requests_remaining",
		Help: "Requests the bot's own key (PNW_API_KEY) has left today: the game's last count less the requests sent since; NaN until the game reports it.",
	}, ownRemaining)
	for _, c := range []prometheus.Collector{m.calls, m.cache, m.upstream, m.usageDropped, remaining} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(errors.New("pnw: register metrics"), err)
		}
	}
	return m, nil
}

func (m *metrics) observeUpstream(op string, status int, d time.Duration) {
	m.upstream.WithLabelValues(op, strconv.Itoa(status)).Observe(d.Seconds())
}
