package bot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

const (
	// maxInteractionBody bounds what an unauthenticated caller can make the
	// signature check read.
	maxInteractionBody = 1 << 20
	// maxClockSkew is how far a signed timestamp may be from now: replays of
	// older requests are refused.
	maxClockSkew = 5 * time.Minute
)

// InteractionsHandler serves Discord's Interactions Endpoint URL (POST
// /interactions) through the same router and middleware as the gateway. It
// answers inline; a slow handler's deferral is answered inline and its result
// edited in through REST. It is nil when Options.PublicKey is not set.
func (b *Bot) InteractionsHandler() http.Handler {
	if b.opts.PublicKey == nil {
		return nil
	}
	return http.HandlerFunc(b.serveHTTP)
}

func (b *Bot) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxInteractionBody)
	if !discordgo.VerifyInteraction(r, b.opts.PublicKey) {
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	if !fresh(r.Header.Get("X-Signature-Timestamp"), time.Now()) {
		http.Error(w, "stale request timestamp", http.StatusUnauthorized)
		return
	}
	var i discordgo.Interaction
	if err := json.NewDecoder(r.Body).Decode(&i); err != nil {
		http.Error(w, "invalid interaction", http.StatusBadRequest)
		return
	}
	if i.Type == discordgo.InteractionPing {
		_ = writeJSON(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	}
	isNew, verdict := b.firstTime(r.Context(), &i)
	if !isNew {
		http.Error(w, "interaction already handled", http.StatusConflict)
		return
	}
	if !b.track() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	// The first response is the HTTP response. The handler waits until it has
	// been written: Discord refuses edits and follow-ups of an interaction it
	// has not seen answered.
	first := make(chan *discordgo.InteractionResponse)
	done := make(chan struct{}) // closed when serveHTTP is through with w
	var written error           // set before done is closed
	go func() {
		defer b.inflight.Done()
		b.handle(&i, verdict, func(ctx context.Context, resp *discordgo.InteractionResponse) error {
			select {
			case first <- resp:
			case <-done:
				return errors.New("the interactions request ended before the first response")
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-done:
				return written
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	defer close(done)
	select {
	case resp := <-first:
		written = writeJSON(w, resp)
	case <-r.Context().Done():
	}
}

// fresh reports whether a unix-seconds timestamp is within maxClockSkew of now.
func fresh(timestamp string, now time.Time) bool {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	skew := now.Sub(time.Unix(sec, 0))
	return skew <= maxClockSkew && skew >= -maxClockSkew
}

// writeJSON writes v and flushes it, so that it is on its way to Discord when
// writeJSON returns.
func writeJSON(w http.ResponseWriter, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if _, err := w.Write(body); err != nil {
		return err
	}
	return http.NewResponseController(w).Flush()
}
