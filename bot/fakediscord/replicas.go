package fakediscord

import (
	"net/http"
	"sync"
)

// replicas is what the fake tells about, and counts of, several bots
// sharing one application.
type replicas struct {
	mu            sync.Mutex
	shards        int // GET /gateway/bot's recommendation; 0 means 1
	registrations int // bulk overwrites of the commands
	badGateways   int // REST requests still to answer 502
}

// BadGateway makes the next n REST requests fail with 502, as Discord's
// edge does when its backend is in trouble.
func (f *Fake) BadGateway(n int) {
	f.replicas.mu.Lock()
	defer f.replicas.mu.Unlock()
	f.replicas.badGateways = n
}

// badGateway reports whether this request is to get a 502.
func (r *replicas) badGateway() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.badGateways == 0 {
		return false
	}
	r.badGateways--
	return true
}

func (r *replicas) registered() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.registrations++
}

// SetShards sets how many shards GET /gateway/bot recommends (1 until set).
func (f *Fake) SetShards(n int) {
	f.replicas.mu.Lock()
	defer f.replicas.mu.Unlock()
	f.replicas.shards = n
}

// Shards is what GET /gateway/bot recommends.
func (f *Fake) Shards() int {
	f.replicas.mu.Lock()
	defer f.replicas.mu.Unlock()
	return max(f.replicas.shards, 1)
}

// Registrations counts the bulk overwrites of commands received.
func (f *Fake) Registrations() int {
	f.replicas.mu.Lock()
	defer f.replicas.mu.Unlock()
	return f.replicas.registrations
}

// application answers GET /oauth2/applications/@me: the bot's application.
func (f *Fake) application(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"id": AppID, "name": "pnwbot", "bot_public": false})
}
