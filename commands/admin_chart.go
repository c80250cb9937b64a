package commands

import (
	"pnwbot/chart"
	"pnwbot/store"
)

// usageChart draws the game API lookups of each day as stacked bars: sent
// to the game, and served from the cache.
func usageChart(days []store.AdminUsageDailyRow) ([]byte, error) {
	upstream := make([]float64, len(days))
	cached := make([]float64, len(days))
	labels := make([]string, len(days))
	for i, d := range days {
		upstream[i], cached[i] = float64(d.Upstream), float64(d.Cached)
		labels[i] = d.Day.UTC().Format("Jan 2")
	}
	return chart.StackedBars("Game API lookups per day (UTC)", "lookups", labels,
		chart.Series{Name: "sent to the game", Values: upstream}, chart.Series{Name: "from the cache", Values: cached})
}
