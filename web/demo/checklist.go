package demo

import (
	"regexp"
	"strings"
	"sync"

	"pnwbot/bot/fakediscord"
)

// step is one item of the first hour's checklist in the side bar. It is
// done when the bot answers an interaction with a reply whose text (content,
// embed titles, descriptions and "field: value" lines) matches Reply, which
// is what only a success says.
type step struct {
	ID, Title, Hint string
	Reply           *regexp.Regexp
}

// stepDashboard is done by the web side, not by a reply (Page.Watch).
const stepDashboard = "dashboard"

// steps follow a leader's first hour, as tess, the leader of Rose.
var steps = []step{
	{"link", "Link your nation", "/link, and paste Testonia's key from the list below", regexp.MustCompile(`^Linked to `)},
	{"setup", "/alliance setup", "binds Rose to this server; you become its admin", regexp.MustCompile(`is set up in this server`)},
	{"key", "/alliance key", "then the button in your direct messages, and Testonia's key again", regexp.MustCompile(`alliance key for .+ is linked`)},
	{"members", "/alliance members", "who is in Rose, from the game", regexp.MustCompile(`(?m)^Members of `)},
	{"bank", "/alliance bank", "what Rose's bank holds, read with your key", regexp.MustCompile(`(?m)^Bank of `)},
	{"withdraw", "Send money to alice", "/alliance withdraw recipient: Aliceland money: 1000000, then Confirm (once)",
		regexp.MustCompile(`(?ms)^Withdrawal #\d+ .*Recipient: \[?Aliceland.*State: sent`)},
	{"roles", "/alliance roles", "member-role: Rose, officer-role: Rose government", regexp.MustCompile(`^Stored: linked members`)},
	{"sync", "/alliance sync", "gives those roles as the game's positions say", regexp.MustCompile(`(?m)^Roles of .+ synced`)},
	{stepDashboard, "Open the dashboard", "your alliance's page, signed in through Discord (link below)", nil},
}

// replyText is what a step's pattern reads of a reply.
func replyText(r *fakediscord.Reply) string {
	var b strings.Builder
	b.WriteString(r.Content)
	for _, e := range r.Embeds {
		for _, s := range []string{e.Title, e.Description} {
			if s != "" {
				b.WriteString("\n" + s)
			}
		}
		for _, f := range e.Fields {
			b.WriteString("\n" + f.Name + ": " + f.Value)
		}
	}
	return b.String()
}

// progress is which steps are done, for every page open on the demo.
type progress struct {
	mu      sync.Mutex
	done    map[string]bool
	changed chan struct{} // closed and replaced when a step is done
}

func newProgress() progress {
	return progress{done: map[string]bool{}, changed: make(chan struct{})}
}

// observe ticks the steps the bot's reply shows done.
func (p *progress) observe(r *fakediscord.Reply) {
	text := replyText(r)
	for _, s := range steps {
		if s.Reply != nil && s.Reply.MatchString(text) {
			p.tick(s.ID)
		}
	}
}

func (p *progress) tick(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done[id] {
		p.done[id] = true
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

// list returns the steps done, in the checklist's order.
func (p *progress) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, s := range steps {
		if p.done[s.ID] {
			out = append(out, s.ID)
		}
	}
	return out
}

// changes returns a channel closed when the next step is done.
func (p *progress) changes() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}
