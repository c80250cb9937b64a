package commands

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"pnwbot/store"
)

// usageChart draws the game API lookups of each day as stacked bars: sent
// to the game, and served from the cache. A PNG, 768×384.
func usageChart(days []store.AdminUsageDailyRow) ([]byte, error) {
	p := plot.New()
	p.Title.Text = "Game API lookups per day (UTC)"
	p.Y.Label.Text = "lookups"
	upstream := make(plotter.Values, len(days))
	cached := make(plotter.Values, len(days))
	labels := make([]string, len(days))
	for i, d := range days {
		upstream[i], cached[i] = float64(d.Upstream), float64(d.Cached)
		labels[i] = d.Day.UTC().Format("Jan 2")
	}
	width := vg.Points(max(4, 400/float64(max(len(days), 1))))
	sent, err := plotter.NewBarChart(upstream, width)
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	sent.Color, sent.LineStyle.Width = color.RGBA{R: 0x58, G: 0x65, B: 0xf2, A: 0xff}, 0
	hits, err := plotter.NewBarChart(cached, width)
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	hits.Color, hits.LineStyle.Width = color.RGBA{R: 0x57, G: 0xf2, B: 0x87, A: 0xff}, 0
	hits.StackOn(sent)
	p.Add(sent, hits)
	p.Legend.Add("sent to the game", sent)
	p.Legend.Add("from the cache", hits)
	p.Legend.Top = true
	p.NominalX(labels...)
	w, err := p.WriterTo(8*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	return buf.Bytes(), nil
}
