package main

import (
	"errors"
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

// failingOnce fails its first write, as a full disk would, then writes.
type failingOnce struct {
	syncBuffer
	failed bool
}

func (f *failingOnce) Write(p []byte) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, errors.New("no space left on device")
	}
	return f.syncBuffer.Write(p)
}

// One failed write to stderr loses what failed, not every line after it.
func TestLogBufferAfterAFailedWrite(t *testing.T) {
	t.Parallel()
	out := &failingOnce{}
	buf := newLogBuffer(out)
	defer buf.Close()
	logger := slog.New(flushOnWarn{slog.NewJSONHandler(buf, nil), buf})
	logger.Warn("lost to the full disk")
	logger.Error("database unavailable")
	require.NotContains(t, out.String(), "lost to the full disk")
	require.Contains(t, out.String(), `"msg":"database unavailable"`)
}
