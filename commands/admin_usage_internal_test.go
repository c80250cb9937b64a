package commands

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/store"
)

// BenchmarkUsageChart draws /admin usage's chart of 90 days.
func BenchmarkUsageChart(b *testing.B) {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	days := make([]store.AdminUsageDailyRow, 90)
	for i := range days {
		days[i] = store.AdminUsageDailyRow{Day: day.AddDate(0, 0, i), Upstream: int64(500 + 13*i), Cached: int64(3000 + 29*i)}
	}
	for b.Loop() {
		if _, err := usageChart(days); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBudgetLines: before the game reports the bot key's count, the usage
// log's count of today's requests estimates it.
func TestBudgetLines(t *testing.T) {
	rose := "Rose"
	today := []store.AdminUsageByAllianceRow{{Upstream: 150}, {AllianceName: &rose, Upstream: 7}}
	require.Equal(t, []string{
		"Bot's key (PNW_API_KEY): about 1,850 left of 2,000 (from the usage log; the game has not reported yet)",
		"Rose's manager keys: 7 sent today",
	}, budgetLines(nil, today))
	reset := time.Unix(1_800_000_000, 0)
	lines := budgetLines([]pnw.KeyBudget{{KeyID: "ab12", Own: true, Limit: 15000, Remaining: 14000, Reset: reset}}, today)
	require.Equal(t, "Bot's key (PNW_API_KEY): 14,000 left of 15,000, until <t:1800000000:t>", lines[0])
	require.Len(t, lines, 2, "the game's count wins over the estimate")
}
