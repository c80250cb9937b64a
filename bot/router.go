package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// Handler answers one interaction. It never calls Discord itself: it returns
// the response and the bot delivers it, inline, through the callback, or as an
// edit when it had to defer first.
type Handler func(ctx context.Context, req *Request) (*Response, error)

// Middleware wraps a handler; see Chain for the order.
type Middleware func(Handler) Handler

// Chain wraps h in mw, the first middleware outermost.
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Command is a slash command with every route that belongs to it: its
// subcommands, its autocomplete, and the custom IDs of its buttons and modals.
// Definition may be nil for a group of component routes only.
type Command struct {
	Definition *discordgo.ApplicationCommand
	Routes     []Route
}

// Route binds a path to a handler.
//
// A path beginning with "/" is a command path: "/link", "/alliance/info"
// (command, then subcommand group and subcommand, as in the definition). Any
// other path is a custom_id pattern for components and modals, with "/"
// between segments: "link/submit", "account/delete/{token}", where {token}
// matches one non-empty segment and is read with req.Var("token"). Build
// custom IDs with CustomID so that they match.
type Route struct {
	Path    string
	Handler Handler
	// Autocomplete answers autocomplete on a command path; req.Focused names
	// the option being typed.
	Autocomplete Handler
	// Ephemeral makes the replies on this route private, the deferral
	// included: the bot must know before the handler returns.
	Ephemeral bool
}

// Router is the one routing table: command paths and custom_id patterns.
type Router struct {
	defs     []*discordgo.ApplicationCommand
	commands map[string]*Route
	exact    map[string]*Route
	patterns []pattern
	mw       []Middleware
}

type pattern struct {
	segments []string
	route    *Route
}

// NewRouter returns a router serving cmds. Like Add, it panics on an invalid
// or duplicate route, a mistake to catch when the program starts.
func NewRouter(cmds ...Command) *Router {
	r := &Router{commands: map[string]*Route{}, exact: map[string]*Route{}}
	r.Add(cmds...)
	return r
}

// Add registers commands. Each definition's subcommands must match its command
// routes one to one.
func (r *Router) Add(cmds ...Command) {
	for _, c := range cmds {
		var want []string
		if c.Definition != nil {
			want = commandPaths(c.Definition)
			r.defs = append(r.defs, c.Definition)
		}
		var got []string
		for i := range c.Routes {
			route := &c.Routes[i]
			if route.Handler == nil && route.Autocomplete == nil {
				panic("bot: route " + route.Path + " has no handler")
			}
			if strings.HasPrefix(route.Path, "/") {
				got = append(got, route.Path)
				r.addCommand(route)
			} else {
				r.addCustomID(route)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			panic(fmt.Sprintf("bot: command routes %v do not match the definition's paths %v", got, want))
		}
	}
}

func (r *Router) addCommand(route *Route) {
	if _, dup := r.commands[route.Path]; dup {
		panic("bot: duplicate route " + route.Path)
	}
	r.commands[route.Path] = route
}

func (r *Router) addCustomID(route *Route) {
	segments := strings.Split(route.Path, "/")
	variables := false
	for _, s := range segments {
		if s == "" {
			panic("bot: empty segment in route " + route.Path)
		}
		variables = variables || isVar(s)
	}
	if !variables {
		if _, dup := r.exact[route.Path]; dup {
			panic("bot: duplicate route " + route.Path)
		}
		r.exact[route.Path] = route
		return
	}
	for _, p := range r.patterns {
		if p.route.Path == route.Path {
			panic("bot: duplicate route " + route.Path)
		}
	}
	r.patterns = append(r.patterns, pattern{segments: segments, route: route})
}

// Use adds middleware run inside the bot's own (logging, auto-defer, panic
// recovery, rate limiting), around every handler of this router. Call it
// before handing the router to New, which chains each route's handler once.
func (r *Router) Use(mw ...Middleware) { r.mw = append(r.mw, mw...) }

// Definitions returns the commands to register.
func (r *Router) Definitions() []*discordgo.ApplicationCommand { return r.defs }

// Serve routes i and runs its handler after the router's middleware, without the bot's, for tests that feed recorded
// interactions to handlers. A message comes back private when the user
// would see it so.
func (r *Router) Serve(ctx context.Context, i *discordgo.Interaction) (*Response, error) {
	req, route, auto := r.match(i)
	resp, err := r.chain(route.handler(auto))(ctx, req)
	return privateIfNeeded(req, resp), err
}

// chain wraps a matched handler, whatever it is (the "no user" and unknown
// ones included), in the router's middleware.
func (r *Router) chain(h Handler) Handler { return Chain(h, r.mw...) }

// RouteUnknown is the Route of requests that match no route.
const RouteUnknown = "unknown"

// unknownRoute serves the interactions that match no route, noUserRoute
// those without a user.
var (
	unknownRoute = &Route{Path: RouteUnknown, Handler: func(context.Context, *Request) (*Response, error) {
		return nil, UserError("This command is not available any more.")
	}}
	noUserRoute = &Route{Path: RouteUnknown, Handler: func(_ context.Context, req *Request) (*Response, error) {
		return nil, fmt.Errorf("interaction %s has no user", req.Interaction.ID)
	}}
)

// handler is the route's handler for an autocomplete or for the rest.
func (rt *Route) handler(autocomplete bool) Handler {
	if autocomplete {
		return rt.Autocomplete
	}
	return rt.Handler
}

// routes lists every route, unknownRoute and noUserRoute included.
func (r *Router) routes() []*Route {
	routes := []*Route{unknownRoute, noUserRoute}
	for _, rt := range r.commands {
		routes = append(routes, rt)
	}
	for _, rt := range r.exact {
		routes = append(routes, rt)
	}
	for _, p := range r.patterns {
		routes = append(routes, p.route)
	}
	return routes
}

// match builds the request for i and finds its route, and whether i is
// served by the route's Autocomplete. An interaction that matches no route
// gets unknownRoute, which tells the user so.
func (r *Router) match(i *discordgo.Interaction) (*Request, *Route, bool) {
	req := newRequest(i)
	route, auto := r.find(req)
	if route.handler(auto) == nil {
		route, auto = unknownRoute, false
	}
	req.Route = route.Path
	req.Ephemeral = route.Ephemeral
	return req, route, auto
}

func (r *Router) find(req *Request) (*Route, bool) {
	if req.User == nil {
		return noUserRoute, false
	}
	switch req.Interaction.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		if route := r.commands[req.path]; route != nil {
			return route, req.Interaction.Type == discordgo.InteractionApplicationCommandAutocomplete
		}
	case discordgo.InteractionMessageComponent, discordgo.InteractionModalSubmit:
		var route *Route
		if route, req.vars = r.matchCustomID(req.path); route != nil {
			return route, false
		}
	}
	return unknownRoute, false
}

func (r *Router) matchCustomID(id string) (*Route, map[string]string) {
	if route, ok := r.exact[id]; ok {
		return route, nil
	}
	segments := strings.Split(id, "/")
	for _, p := range r.patterns {
		if vars, ok := p.match(segments); ok {
			return p.route, vars
		}
	}
	return nil, nil
}

func (p pattern) match(segments []string) (map[string]string, bool) {
	if len(segments) != len(p.segments) {
		return nil, false
	}
	vars := map[string]string{}
	for i, s := range p.segments {
		switch {
		case isVar(s) && segments[i] != "":
			vars[s[1:len(s)-1]] = segments[i]
		case s != segments[i]:
			return nil, false
		}
	}
	return vars, true
}

func isVar(segment string) bool {
	return len(segment) > 2 && segment[0] == '{' && segment[len(segment)-1] == '}'
}

// CustomID fills the variables of a custom_id pattern in order:
// CustomID("account/delete/{token}", tok) is "account/delete/" + tok. It
// panics when the count differs or a value is empty or holds a "/".
func CustomID(pattern string, values ...string) string {
	segments := strings.Split(pattern, "/")
	n := 0
	for i, s := range segments {
		if !isVar(s) {
			continue
		}
		if n == len(values) || values[n] == "" || strings.Contains(values[n], "/") {
			panic(fmt.Sprintf("bot: CustomID(%q, %q): bad values", pattern, values))
		}
		segments[i] = values[n]
		n++
	}
	if n != len(values) {
		panic(fmt.Sprintf("bot: CustomID(%q, %q): too many values", pattern, values))
	}
	return strings.Join(segments, "/")
}

// commandPaths lists the paths a definition can be invoked with.
func commandPaths(def *discordgo.ApplicationCommand) []string {
	base := "/" + def.Name
	var paths []string
	for _, o := range def.Options {
		switch o.Type {
		case discordgo.ApplicationCommandOptionSubCommand:
			paths = append(paths, base+"/"+o.Name)
		case discordgo.ApplicationCommandOptionSubCommandGroup:
			for _, sub := range o.Options {
				paths = append(paths, base+"/"+o.Name+"/"+sub.Name)
			}
		}
	}
	if len(paths) == 0 {
		return []string{base}
	}
	return paths
}
