package bot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
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
// edited in through REST, the request staying open (its answer complete)
// until then. It is nil when Options.PublicKey is not set.
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
	var i discordgo.Interaction
	if status, msg := b.readInteraction(w, r, &i); status != http.StatusOK {
		http.Error(w, msg, status)
		return
	}
	if i.Type == discordgo.InteractionPing {
		_ = writeJSON(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	}
	seen, verdict := b.firstTime(r.Context(), &i)
	if seen == replayed {
		http.Error(w, "interaction already handled", http.StatusConflict)
		return
	}
	if !b.track() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer b.inflight.Done()
	// The handler runs on this goroutine and writes the first response
	// itself, flushed: a slow handler's deferral reaches Discord while the
	// handler goes on (Discord refuses edits and follow-ups of an
	// interaction it has not seen answered), and the bot never writes the
	// first response twice or from two goroutines at once.
	b.handle(&i, seen, verdict, func(_ context.Context, resp *discordgo.InteractionResponse) error {
		return writeJSON(w, resp)
	})
}

// readInteraction reads the signed request into i: it checks the
// signature and the timestamp, then decodes the body once, from one pooled
// buffer. Anything but http.StatusOK comes with the message to answer.
func (b *Bot) readInteraction(w http.ResponseWriter, r *http.Request, i *discordgo.Interaction) (int, string) {
	const unsigned = "invalid request signature"
	var sig [ed25519.SignatureSize]byte
	hexSig := r.Header.Get("X-Signature-Ed25519")
	timestamp := r.Header.Get("X-Signature-Timestamp")
	if len(hexSig) != hex.EncodedLen(len(sig)) || timestamp == "" {
		return http.StatusUnauthorized, unsigned
	}
	msg := getBuffer()
	defer putBuffer(msg)
	msg.WriteString(hexSig) // decoded from the buffer: no copy of its own
	_, err := hex.Decode(sig[:], msg.Bytes())
	if err != nil {
		return http.StatusUnauthorized, unsigned
	}
	// The signed message is the timestamp followed by the body.
	msg.Reset()
	msg.WriteString(timestamp)
	if _, err = msg.ReadFrom(http.MaxBytesReader(w, r.Body, maxInteractionBody)); err != nil {
		return http.StatusUnauthorized, unsigned
	}
	if !ed25519.Verify(b.opts.PublicKey, msg.Bytes(), sig[:]) {
		return http.StatusUnauthorized, unsigned
	}
	if !fresh(timestamp, time.Now()) {
		return http.StatusUnauthorized, "stale request timestamp"
	}
	if err := decodeInteraction(msg.Bytes()[len(timestamp):], i); err != nil {
		return http.StatusBadRequest, "invalid interaction"
	}
	return http.StatusOK, ""
}

// buffers hold request bodies and encoded answers, reused across requests.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer kept for reuse: a rare large body
// should not stay in memory for good.
const maxPooledBuffer = 64 << 10

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBuffer {
		return
	}
	buf.Reset()
	buffers.Put(buf)
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
	body := getBuffer()
	defer putBuffer(body)
	if err := json.NewEncoder(body).Encode(v); err != nil {
		return err
	}
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(body.Len())}
	if _, err := w.Write(body.Bytes()); err != nil {
		return err
	}
	return http.NewResponseController(w).Flush()
}

// contentTypeJSON is every answer's Content-Type header, shared: the
// server only reads it.
var contentTypeJSON = []string{"application/json"}
