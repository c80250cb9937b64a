package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// How long a log line may wait in a logBuffer, and how much may wait.
const (
	logFlushEvery = 100 * time.Millisecond
	logBufferSize = 64 << 10
)

// logBuffer gathers the log lines of `pnwbot run` and writes them out
// together, every logFlushEvery or when logBufferSize bytes wait: a write
// per line (the access log writes one per interaction) cost the binary a
// system call each, some 3% of its CPU under load. Warnings and errors go
// out at once, with the lines before them (flushOnWarn); a crash loses at
// most logFlushEvery of info lines.
type logBuffer struct {
	mu   sync.Mutex
	w    *bufio.Writer
	dst  io.Writer
	stop chan struct{}
	done chan struct{}
}

// newLogBuffer starts buffering for w; Close flushes and stops it.
func newLogBuffer(w io.Writer) *logBuffer {
	b := &logBuffer{w: bufio.NewWriterSize(w, logBufferSize), dst: w, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(logFlushEvery)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.Flush()
			}
		}
	}()
	return b
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.w.Write(p)
	if err != nil {
		b.w.Reset(b.dst) // a bufio.Writer keeps its first error: logging would stop for good
	}
	return n, err
}

// Flush writes out what waits.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Nowhere to report a failing stderr: what failed is dropped and the
	// next lines are written (a bufio.Writer would refuse them all).
	if err := b.w.Flush(); err != nil {
		b.w.Reset(b.dst)
	}
}

// Close stops the periodic flush and writes out what waits.
func (b *logBuffer) Close() {
	close(b.stop)
	<-b.done
	b.Flush()
}

// flushOnWarn writes a warning or an error out at once, with what waits
// before it in its logBuffer.
type flushOnWarn struct {
	slog.Handler
	out *logBuffer
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.out.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.out}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.out}
}
