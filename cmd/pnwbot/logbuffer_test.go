package main

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// A warning goes out at once, with the lines before it; Close writes out
// what waits.
func TestLogBuffer(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	buf := newLogBuffer(out)
	logger := slog.New(flushOnWarn{slog.NewJSONHandler(buf, nil), buf})
	logger.Info("interaction", "route", "/me")
	logger.With("component", "test").Warn("replayed interaction refused")
	require.Contains(t, out.String(), `"msg":"interaction"`)
	require.Contains(t, out.String(), `"msg":"replayed interaction refused","component":"test"`)

	logger.Info("last words")
	buf.Close()
	require.Contains(t, out.String(), `"msg":"last words"`)
}
