package store_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestPoolCollector(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(store.NewPoolCollector(st))

	conn, err := st.Pool.Acquire(t.Context())
	require.NoError(t, err)
	defer conn.Release()

	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			got[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	require.Equal(t, 1.0, got["pnwbot_db_pool_connections/acquired"])
	require.Equal(t, float64(st.Pool.Config().MaxConns), got["pnwbot_db_pool_max_connections"])
	require.GreaterOrEqual(t, got["pnwbot_db_pool_acquires_total"], 1.0)
	require.Len(t, got, 9, "every statistic exported: %v", got)
}
