package chart_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/chart"
)

// TestCharts: both kinds are 768×384 PNGs, each series in its colour
// (blurple, then green).
func TestCharts(t *testing.T) {
	t.Parallel()
	blurple := color.RGBA{R: 0x58, G: 0x65, B: 0xf2, A: 0xff}
	green := color.RGBA{R: 0x57, G: 0xf2, B: 0x87, A: 0xff}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	bars, err := chart.StackedBars("Lookups", "lookups", []string{"Jan 1", "Jan 2"},
		chart.Series{Name: "sent", Values: []float64{5, 7}}, chart.Series{Name: "cached", Values: []float64{20, 30}})
	require.NoError(t, err)
	img := decode(t, bars)
	require.True(t, has(img, blurple), "the first series")
	require.True(t, has(img, green), "the second, stacked on it")

	line, err := chart.Line("Holdings", []chart.Point{{At: day, Value: 10}, {At: day.AddDate(0, 0, 1), Value: 12}})
	require.NoError(t, err)
	img = decode(t, line)
	require.True(t, has(img, blurple))
	require.False(t, has(img, green), "one series")

	_, err = chart.StackedBars("Lookups", "lookups", nil, chart.Series{Name: "sent"})
	require.ErrorContains(t, err, "chart: ", "nothing to draw")
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 768, 384), img.Bounds())
	return img
}

func has(img image.Image, c color.RGBA) bool {
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == c {
				return true
			}
		}
	}
	return false
}
