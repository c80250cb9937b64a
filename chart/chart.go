// Package chart draws pnwbot's charts as PNG images of 768×384 pixels
// (8×4 inches at gonum/plot's 96 dpi) in Discord's colours: /admin usage
// attaches one to its embed, the web bank page shows one inline. It takes
// plain numbers and knows nothing of where they come from.
package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// palette colours the series in order: Discord's blurple, then its green.
var palette = []color.Color{
	color.RGBA{R: 0x58, G: 0x65, B: 0xf2, A: 0xff},
	color.RGBA{R: 0x57, G: 0xf2, B: 0x87, A: 0xff},
}

// Series is one layer of bars: a value for each label, named in the legend.
type Series struct {
	Name   string
	Values []float64
}

// StackedBars draws a bar for each label, the series stacked on it in
// order (the first at the bottom), with the legend at the top.
func StackedBars(title, yLabel string, labels []string, series ...Series) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	width := vg.Points(max(4, 400/float64(max(len(labels), 1))))
	var below *plotter.BarChart
	for i, s := range series {
		bars, err := plotter.NewBarChart(plotter.Values(s.Values), width)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		bars.Color, bars.LineStyle.Width = palette[i%len(palette)], 0
		if below != nil {
			bars.StackOn(below)
		}
		p.Add(bars)
		p.Legend.Add(s.Name, bars)
		below = bars
	}
	p.Legend.Top = true
	p.NominalX(labels...)
	return draw(p)
}

// Point is a value at a time.
type Point struct {
	At    time.Time
	Value float64
}

// Line draws points joined by a line, each marked, with dates ("Jan 2")
// on the x axis and the y axis from zero.
func Line(title string, points []Point) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2"}
	pts := make(plotter.XYs, len(points))
	for i, pt := range points {
		pts[i].X, pts[i].Y = float64(pt.At.Unix()), pt.Value
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	line.Color, line.Width = palette[0], vg.Points(2)
	dots, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	dots.Color = line.Color
	p.Add(line, dots)
	p.Y.Min = 0
	return draw(p)
}

// draw renders p as a PNG.
func draw(p *plot.Plot) ([]byte, error) {
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
