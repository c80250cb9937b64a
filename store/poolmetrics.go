package store

import (
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports the statistics of a store's pool (pool.Stat) to
// Prometheus, read at each scrape; the waits count the queries' waits for
// their turn at the pool (see PoolWait) with the pool's own.
type PoolCollector struct {
	st                                *Store
	conns, maxConns                   *prometheus.Desc
	acquires, emptyAcquires, canceled *prometheus.Desc
	acquireSeconds, emptyWaitSeconds  *prometheus.Desc
}

// NewPoolCollector returns a collector of st's pool's statistics.
func NewPoolCollector(st *Store) *PoolCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("pnwbot_db_pool_"+name, help, labels, nil)
	}
	return &PoolCollector{
		st:               st,
		conns:            desc("connections", "PostgreSQL connections in the pool, by state: acquired (in use), idle, or constructing.", "state"),
		maxConns:         desc("max_connections", "The pool's maximum number of connections."),
		acquires:         desc("acquires_total", "Connections acquired from the pool."),
		emptyAcquires:    desc("empty_acquires_total", "Acquires that had to wait for a connection: none was idle."),
		canceled:         desc("canceled_acquires_total", "Acquires given up because their context ended first."),
		acquireSeconds:   desc("acquire_seconds_total", "Time spent acquiring connections."),
		emptyWaitSeconds: desc("empty_acquire_wait_seconds_total", "Time spent waiting by acquires that found no idle connection."),
	}
}

// Describe implements prometheus.Collector.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conns, c.maxConns, c.acquires, c.emptyAcquires, c.canceled, c.acquireSeconds, c.emptyWaitSeconds} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.st.Pool.Stat()
	w := &c.st.guard.waits
	w.mu.Lock()
	waits, canceled, waited := w.count, w.canceled, w.waited
	w.mu.Unlock()
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	ch <- prometheus.MustNewConstMetric(c.conns, gauge, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(c.conns, gauge, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(c.conns, gauge, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(c.maxConns, gauge, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquires, counter, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.emptyAcquires, counter, float64(s.EmptyAcquireCount()+waits))
	ch <- prometheus.MustNewConstMetric(c.canceled, counter, float64(s.CanceledAcquireCount()+canceled))
	ch <- prometheus.MustNewConstMetric(c.acquireSeconds, counter, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyWaitSeconds, counter, (s.EmptyAcquireWaitTime() + waited).Seconds())
}
