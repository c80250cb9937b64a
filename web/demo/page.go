// Package demo serves /demo, a page that plays a Discord client in the
// browser for `pnwbot demo`: it sends interactions to the bot through the
// fake Discord's gateway, as Discord would, and renders what the bot answers
// (messages, embeds, buttons, modals, autocomplete), including the messages
// the bot edits in after a deferral. World is the fixture game it runs in.
package demo

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bot/fakediscord"
)

//go:embed page.html message.html demo.js
var files embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{"json": toJSON, "has": slices.Contains[[]string]}).ParseFS(files, "*.html"))

// Waits on the bot: Discord gives an interaction 3 s for its first response
// (a loaded machine gets more here); a deferred message is waited for in
// polls that stay well under the HTTP server's deadline (web.RequestTimeout).
const (
	responseWait = 10 * time.Second
	deliveryWait = 8 * time.Second
)

// Page is the demo client. It serves GET /demo and, under /demo/, the
// script and the JSON calls the script makes.
type Page struct {
	discord  *fakediscord.Fake
	world    World
	logger   *slog.Logger
	slug     func(context.Context) (string, error)
	mux      *http.ServeMux
	progress progress
}

// Options are what the page needs.
type Options struct {
	Discord *fakediscord.Fake
	World   World
	Logger  *slog.Logger
	// AllianceSlug is the slug of the alliance bound to the demo's server,
	// "" before /alliance setup: the dashboard links need it.
	AllianceSlug func(context.Context) (string, error)
}

// New returns the page driving the bot connected to opts.Discord.
func New(opts Options) *Page {
	p := &Page{discord: opts.Discord, world: opts.World, logger: opts.Logger, slug: opts.AllianceSlug,
		mux: http.NewServeMux(), progress: newProgress()}
	p.mux.HandleFunc("GET /demo", p.page)
	p.mux.HandleFunc("GET /demo/demo.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "demo.js")
	})
	p.mux.HandleFunc("POST /demo/interactions", p.interact)
	p.mux.HandleFunc("GET /demo/deliveries/{token}", p.delivery)
	p.mux.HandleFunc("GET /demo/events", p.events)
	p.mux.HandleFunc("GET /demo/dashboard", p.dashboard)
	p.mux.HandleFunc("POST /demo/world/{event}", p.act)
	return p
}

func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// command is a slash command as the client offers it: a leaf of the
// registered commands, with its path as typed ("alliance info").
type command struct {
	Path        string                                `json:"path"`
	Description string                                `json:"description"`
	Options     []*discordgo.ApplicationCommandOption `json:"options"`
}

func (p *Page) commands() []command {
	var out []command
	var walk func(path, description string, opts []*discordgo.ApplicationCommandOption)
	walk = func(path, description string, opts []*discordgo.ApplicationCommandOption) {
		// A command with subcommands (or groups) has nothing else.
		if len(opts) > 0 && (opts[0].Type == discordgo.ApplicationCommandOptionSubCommand || opts[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup) {
			for _, o := range opts {
				walk(path+" "+o.Name, o.Description, o.Options)
			}
			return
		}
		out = append(out, command{Path: path, Description: description, Options: opts})
	}
	for _, c := range p.discord.Commands(fakediscord.GuildID) {
		walk(c.Name, c.Description, c.Options)
	}
	return out
}

func (p *Page) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	data := struct {
		World    World
		Commands []command
		Steps    []step
		Done     []string
	}{p.world, p.commands(), steps, p.progress.list()}
	if err := templates.ExecuteTemplate(w, "page.html", data); err != nil {
		p.logger.Error("demo page", "error", err)
	}
}

// action is what the page asks for: one interaction by one user.
type action struct {
	User string `json:"user"`
	// Type is command, autocomplete, component or modal.
	Type string `json:"type"`
	// Command and Options for a command or an autocomplete, whose Focused
	// names the option being typed.
	Command string            `json:"command"`
	Options map[string]string `json:"options"`
	Focused string            `json:"focused"`
	// CustomID of the button clicked or the modal submitted, with the
	// modal's Values.
	CustomID string            `json:"custom_id"`
	Values   map[string]string `json:"values"`
	// DM: the button or modal is in the user's direct messages with the bot.
	DM bool `json:"dm"`
}

// result is the bot's answer, for the page to show. Kind is message (a new
// message), update (the message clicked, or the one deferred, changes),
// modal, choices (autocomplete), or deferred (the bot is thinking: fetch
// /demo/deliveries/Token for what follows).
type result struct {
	Kind    string                                      `json:"kind"`
	HTML    string                                      `json:"html,omitempty"`
	Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices,omitempty"`
	Token   string                                      `json:"token,omitempty"`
	// Deleted: the deferred message was removed before this follow-up.
	Deleted bool `json:"deleted,omitempty"`
}

func (p *Page) interact(w http.ResponseWriter, r *http.Request) {
	var a action
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&a); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "not a JSON action"})
		return
	}
	i, err := p.interaction(a)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := p.discord.SendInteraction(i); err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "the bot is not connected to the gateway"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), responseWait)
	defer cancel()
	reply, err := p.discord.WaitResponse(ctx, i.ID)
	if err != nil {
		writeJSON(w, http.StatusGatewayTimeout, map[string]string{"error": "The application did not respond."})
		return
	}
	res, err := p.render(reply, a)
	if err != nil {
		p.logger.Error("demo render", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot render the reply"})
		return
	}
	if res.Kind == "deferred" {
		res.Token = i.Token
	} else {
		p.progress.observe(reply)
	}
	writeJSON(w, http.StatusOK, res)
}

// delivery answers with what the bot sent after deferring, or 204 when it
// has sent nothing yet: the page asks again.
func (p *Page) delivery(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	ctx, cancel := context.WithTimeout(r.Context(), deliveryWait)
	defer cancel()
	reply, followup, err := p.discord.WaitDelivery(ctx, token)
	if err != nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	html, err := renderMessage(reply, "", p.world)
	if err != nil {
		p.logger.Error("demo render", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot render the reply"})
		return
	}
	res := result{Kind: "update", HTML: html}
	if followup {
		res.Kind, res.Deleted = "message", p.discord.Deleted(token)
	}
	p.progress.observe(reply)
	writeJSON(w, http.StatusOK, res)
}

// events answers, as soon as there is news and otherwise after a while
// with 204: the direct messages the bot sent past the counts the page has
// (dms: one count per user, in the world's order), the bot's messages in
// each channel when they are not the ones the page shows (channels: the
// version it shows), and the steps done when they are not the steps the
// page shows (done).
func (p *Page) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	seen := map[string]int{}
	for i, n := range strings.Split(q.Get("dms"), ",") {
		if i < len(p.world.Users) {
			seen[p.world.Users[i].ID], _ = strconv.Atoi(n)
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), deliveryWait)
	defer cancel()
	for {
		// Taken before reading, so that no change is missed.
		changed, ticked := p.discord.Changed(), p.progress.changes()
		n, err := p.news(seen, q.Get("channels"))
		if err != nil {
			p.logger.Error("demo render", "error", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot render the bot's messages"})
			return
		}
		if len(n.DMs) > 0 || n.Channels != nil || strings.Join(n.Done, ",") != q.Get("done") {
			writeJSON(w, http.StatusOK, n)
			return
		}
		select {
		case <-changed:
		case <-ticked:
		case <-ctx.Done():
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
}

// news is what events answers.
type news struct {
	// DMs are the direct messages past those seen, by user ID.
	DMs map[string][]string `json:"dms"`
	// Channels are the server's channels and the threads started under
	// them, with all the bot's messages, by ID, when Version differs from
	// the one the page shows.
	Channels map[string]channelNews `json:"channels,omitempty"`
	Version  string                 `json:"version"`
	Done     []string               `json:"done"`
}

type channelNews struct {
	Name     string   `json:"name"`
	Parent   string   `json:"parent,omitempty"` // a thread's channel
	Messages []string `json:"messages"`
}

// news reads what the bot posted unasked: each user's direct messages
// past seen, and the channels' messages unless version is still theirs.
func (p *Page) news(seen map[string]int, version string) (news, error) {
	n := news{DMs: map[string][]string{}, Done: p.progress.list()}
	for _, u := range p.world.Users {
		dms := p.discord.DMs(u.ID)
		if len(dms) > seen[u.ID] {
			html, err := p.renderAll(dms[seen[u.ID]:])
			if err != nil {
				return n, err
			}
			n.DMs[u.ID] = html
		}
	}
	var channels []fakediscord.Channel
	for _, c := range p.world.Channels {
		ch, _ := p.discord.Channel(c.ID)
		channels = append(append(channels, ch), p.discord.Threads(c.ID)...)
	}
	posted := map[string][]*fakediscord.Reply{}
	for _, c := range channels {
		edits := 0 // a channel's version: its messages and their edits
		for _, m := range p.discord.ChannelMessages(c.ID) {
			posted[c.ID] = append(posted[c.ID], m.Reply)
			edits += m.Edits
		}
		n.Version += fmt.Sprintf("%s:%d.%d,", c.ID, len(posted[c.ID]), edits)
	}
	if n.Version == version {
		return n, nil
	}
	n.Channels = map[string]channelNews{}
	for _, c := range channels {
		html, err := p.renderAll(posted[c.ID])
		if err != nil {
			return n, err
		}
		n.Channels[c.ID] = channelNews{Name: c.Name, Parent: c.ParentID, Messages: html}
	}
	return n, nil
}

// renderAll renders messages the bot posted unasked.
func (p *Page) renderAll(replies []*fakediscord.Reply) ([]string, error) {
	var out []string
	for _, r := range replies {
		html, err := renderMessage(r, "", p.world)
		if err != nil {
			return nil, err
		}
		out = append(out, html)
	}
	return out, nil
}

// act makes the world move as the event the page names says.
func (p *Page) act(w http.ResponseWriter, r *http.Request) {
	e := p.world.event(r.PathValue("event"))
	if e == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such event"})
		return
	}
	if err := e.do(); err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// dashboardPages are the dashboard's pages the side bar links to; %s is
// the slug of the alliance bound to the demo's server.
var dashboardPages = map[string]string{
	"me": "/me", "admin": "/admin", "alliance": "/alliances/%s", "audit": "/alliances/%s/audit", "public": "/a/%s",
}

// dashboard signs the chosen user in to the web side, as the one signed
// in to the fake Discord, and opens a page of the dashboard (to, one of
// dashboardPages).
func (p *Page) dashboard(w http.ResponseWriter, r *http.Request) {
	user := p.world.user(r.URL.Query().Get("user"))
	if user == nil {
		http.Error(w, "Choose a user in the demo page first.", http.StatusBadRequest)
		return
	}
	path, ok := dashboardPages[r.URL.Query().Get("to")]
	if !ok {
		http.Error(w, "Unknown dashboard page.", http.StatusNotFound)
		return
	}
	if strings.Contains(path, "%s") {
		slug, err := p.slug(r.Context())
		if err != nil {
			p.logger.Error("demo dashboard", "error", err)
			http.Error(w, "The database did not answer.", http.StatusServiceUnavailable)
			return
		} else if slug == "" {
			http.Error(w, "No alliance is set up in the demo's server yet: run /alliance setup as tess first.", http.StatusConflict)
			return
		}
		path = fmt.Sprintf(path, slug)
	}
	if strings.HasPrefix(path, "/a/") { // open to anyone: nobody signs in
		http.Redirect(w, r, path, http.StatusFound)
		return
	}
	p.discord.SignIn(&discordgo.User{ID: user.ID, Username: user.Name})
	http.Redirect(w, r, "/login?next="+url.QueryEscape(path), http.StatusFound)
}

// Watch passes requests on to the web side, ticking the dashboard step
// when a signed-in manager's alliance page opens.
func (p *Page) Watch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/alliances/") {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if sw.status == http.StatusOK {
			p.progress.tick(stepDashboard)
		}
	})
}

// statusWriter keeps the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// interaction builds the interaction Discord would send for a.
func (p *Page) interaction(a action) (*discordgo.Interaction, error) {
	user := p.world.user(a.User)
	if user == nil {
		return nil, errors.New("choose a user")
	}
	var i *discordgo.Interaction
	switch a.Type {
	case "command", "autocomplete":
		var err error
		if i, err = p.commandInteraction(a); err != nil {
			return nil, err
		}
	case "component":
		i = fakediscord.Component(a.CustomID)
	case "modal":
		i = fakediscord.ModalSubmit(a.CustomID, a.Values)
	default:
		return nil, fmt.Errorf("unknown action %q", a.Type)
	}
	i = fakediscord.WithPermissions(i, user.Permissions)
	if a.DM {
		if a.Type != "component" && a.Type != "modal" {
			return nil, errors.New("the server's commands are used in its channel")
		}
		i = fakediscord.InDM(i)
	}
	return fakediscord.As(&discordgo.User{ID: user.ID, Username: user.Name}, i), nil
}

func (p *Page) commandInteraction(a action) (*discordgo.Interaction, error) {
	var cmd *command
	for _, c := range p.commands() {
		if c.Path == strings.TrimSpace(strings.TrimPrefix(a.Command, "/")) {
			cmd = &c
		}
	}
	if cmd == nil {
		return nil, fmt.Errorf("no command /%s", a.Command)
	}
	resolved := &discordgo.ApplicationCommandInteractionDataResolved{Users: map[string]*discordgo.User{}, Roles: map[string]*discordgo.Role{},
		Channels: map[string]*discordgo.Channel{}}
	var opts []*discordgo.ApplicationCommandInteractionDataOption
	for _, def := range cmd.Options {
		value, focused := a.Options[def.Name], a.Type == "autocomplete" && a.Focused == def.Name
		if value == "" && !focused {
			if def.Required && a.Type == "command" {
				return nil, fmt.Errorf("%s is required", def.Name)
			}
			continue
		}
		o := &discordgo.ApplicationCommandInteractionDataOption{Name: def.Name, Type: def.Type, Value: value, Focused: focused}
		if !focused { // what is being typed is sent as typed
			v, err := optionValue(def.Type, value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", def.Name, err)
			}
			o.Value = v
		}
		if def.Type == discordgo.ApplicationCommandOptionUser {
			u := p.world.user(value)
			if u == nil {
				return nil, fmt.Errorf("%s: choose a member", def.Name)
			}
			resolved.Users[u.ID] = &discordgo.User{ID: u.ID, Username: u.Name}
		}
		if def.Type == discordgo.ApplicationCommandOptionRole {
			r := p.world.role(value)
			if r == nil {
				return nil, fmt.Errorf("%s: choose a role", def.Name)
			}
			resolved.Roles[r.ID] = &discordgo.Role{ID: r.ID, Name: r.Name}
		}
		if def.Type == discordgo.ApplicationCommandOptionChannel {
			c := p.world.channel(value)
			if c == nil {
				return nil, fmt.Errorf("%s: choose a channel", def.Name)
			}
			resolved.Channels[c.ID] = &discordgo.Channel{ID: c.ID, Name: c.Name, GuildID: fakediscord.GuildID, Type: discordgo.ChannelTypeGuildText}
		}
		opts = append(opts, o)
	}
	path := "/" + strings.ReplaceAll(cmd.Path, " ", "/")
	i := fakediscord.Command(path, opts...)
	if a.Type == "autocomplete" {
		i = fakediscord.Autocomplete(path, opts...)
	}
	d := i.ApplicationCommandData()
	d.Resolved = resolved
	i.Data = d
	return i, nil
}

// optionValue converts what was typed as Discord's client does before
// sending it, refusing what it would refuse.
func optionValue(t discordgo.ApplicationCommandOptionType, s string) (any, error) {
	switch t {
	case discordgo.ApplicationCommandOptionString, discordgo.ApplicationCommandOptionUser, discordgo.ApplicationCommandOptionRole,
		discordgo.ApplicationCommandOptionChannel:
		return s, nil
	case discordgo.ApplicationCommandOptionInteger:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("not a whole number")
		}
		return float64(n), nil
	case discordgo.ApplicationCommandOptionNumber:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errors.New("not a number")
		}
		return f, nil
	case discordgo.ApplicationCommandOptionBoolean:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, errors.New("not true or false")
		}
		return b, nil
	default:
		return nil, fmt.Errorf("the demo does not offer options of type %s", t)
	}
}

func (w World) user(id string) *User {
	for _, u := range w.Users {
		if u.ID == id {
			return &u
		}
	}
	return nil
}

func (w World) role(id string) *Role {
	for _, r := range w.Roles {
		if r.ID == id {
			return &r
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func toJSON(v any) (template.JS, error) {
	b, err := json.Marshal(v)
	return template.JS(b), err
}
