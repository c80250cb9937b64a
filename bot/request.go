package bot

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Request is one interaction as a handler sees it.
type Request struct {
	Interaction *discordgo.Interaction
	// Route is the matched route's path ("/alliance/info",
	// "account/delete/{token}"), or RouteUnknown.
	Route string
	// User is the invoker: the member's user in a guild, the user in a DM.
	User *discordgo.User
	// Member is nil outside guilds.
	Member  *discordgo.Member
	GuildID string
	// Focused is the option being typed, for autocomplete.
	Focused string
	// Ephemeral is true when the route's replies are private; the bot makes
	// them ephemeral then, and also when the caller prefers private replies.
	Ephemeral bool

	// prefersPrivate is set by PreferPrivate; the deferral reads it while
	// the handler may still be loading the caller.
	prefersPrivate atomic.Bool

	path     string // the command path or the custom_id
	vars     map[string]string
	options  []*discordgo.ApplicationCommandInteractionDataOption
	resolved *discordgo.ApplicationCommandInteractionDataResolved
	inputs   map[string]string // modal text inputs by custom_id
	// deferral sends the deferred response; nil outside the bot.
	deferral func(ctx context.Context)
	// verdict is the rate limiter's, when it was asked with the replay
	// claim (an Admitter); nil otherwise.
	verdict *Verdict
}

func newRequest(i *discordgo.Interaction) *Request {
	req := &Request{Interaction: i, Member: i.Member, GuildID: i.GuildID, User: i.User}
	if i.Member != nil && i.Member.User != nil {
		req.User = i.Member.User
	}
	switch d := i.Data.(type) {
	case discordgo.ApplicationCommandInteractionData:
		req.path = "/" + d.Name
		req.options = d.Options
		req.resolved = d.Resolved
		for len(req.options) == 1 && req.options[0] != nil &&
			(req.options[0].Type == discordgo.ApplicationCommandOptionSubCommand ||
				req.options[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup) {
			req.path += "/" + req.options[0].Name
			req.options = req.options[0].Options
		}
		for _, o := range req.options {
			if o != nil && o.Focused {
				req.Focused = o.Name
			}
		}
	case discordgo.MessageComponentInteractionData:
		req.path = d.CustomID
	case discordgo.ModalSubmitInteractionData:
		req.path = d.CustomID
		req.inputs = map[string]string{}
		for _, c := range d.Components {
			row, ok := c.(*discordgo.ActionsRow)
			if !ok || row == nil {
				continue
			}
			for _, c := range row.Components {
				if in, ok := c.(*discordgo.TextInput); ok && in != nil {
					req.inputs[in.CustomID] = in.Value
				}
			}
		}
	}
	return req
}

// PreferPrivate makes every reply private, the deferral included when it
// has not gone out yet: the handler learnt that the caller prefers so.
func (r *Request) PreferPrivate() { r.prefersPrivate.Store(true) }

// private reports whether the reply will be private: the route says so, or
// the caller, once loaded, prefers it.
func (r *Request) private() bool { return r.Ephemeral || r.prefersPrivate.Load() }

// hasBadText reports whether any text the user sent is one PostgreSQL
// refuses: a NUL byte or invalid UTF-8.
func (r *Request) hasBadText() bool {
	bad := func(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }
	if bad(r.path) {
		return true
	}
	for _, v := range r.inputs {
		if bad(v) {
			return true
		}
	}
	var walk func([]*discordgo.ApplicationCommandInteractionDataOption) bool
	walk = func(opts []*discordgo.ApplicationCommandInteractionDataOption) bool {
		for _, o := range opts {
			if o == nil {
				continue
			}
			if s, ok := o.Value.(string); ok && bad(s) || walk(o.Options) {
				return true
			}
		}
		return false
	}
	return walk(r.options)
}

// Var returns a variable of the route's custom_id pattern.
func (r *Request) Var(name string) string { return r.vars[name] }

// Options decodes the command's options, or a modal's text inputs by
// custom_id, into the struct dst points to, matching fields by their
// `discord:"name"` tag. Field types: string, bool, *bool (nil when absent),
// int, int64, float64, and
// for user, role and channel options *discordgo.User, *discordgo.Member,
// *discordgo.Role, *discordgo.Channel (from the resolved data; a user option's
// ID also decodes into a string). Absent options leave their fields alone.
// Autocomplete sends what is typed so far, so numbers may arrive as strings.
func (r *Request) Options(dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("bot: Options needs a pointer to a struct, got %T", dst)
	}
	v = v.Elem()
	for i := range v.NumField() {
		field := v.Type().Field(i)
		name := field.Tag.Get("discord")
		if name == "" {
			continue
		}
		if !field.IsExported() {
			return fmt.Errorf("bot: field %s with a discord tag is unexported", field.Name)
		}
		value, ok := r.value(name)
		if !ok {
			continue
		}
		if err := r.set(v.Field(i).Addr().Interface(), value); err != nil {
			return fmt.Errorf("bot: option %s: %w", name, err)
		}
	}
	return nil
}

// Number reads the number option name (a command's options named at run
// time, such as one a resource); 0 when absent.
func (r *Request) Number(name string) (float64, error) {
	v, ok := r.value(name)
	if !ok {
		return 0, nil
	}
	f, err := number(v)
	if err != nil {
		return 0, fmt.Errorf("bot: option %s: %w", name, err)
	}
	return f, nil
}

func (r *Request) value(name string) (any, bool) {
	if r.inputs != nil {
		v, ok := r.inputs[name]
		return v, ok
	}
	for _, o := range r.options {
		if o != nil && o.Name == name {
			return o.Value, o.Value != nil
		}
	}
	return nil, false
}

func (r *Request) set(dst, value any) error {
	resolved := r.resolved
	if resolved == nil {
		resolved = &discordgo.ApplicationCommandInteractionDataResolved{}
	}
	id, _ := value.(string)
	switch p := dst.(type) {
	case *string:
		switch v := value.(type) {
		case string:
			*p = v
		case float64:
			*p = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return fmt.Errorf("cannot decode %T into a string", value)
		}
	case *bool:
		v, ok := value.(bool)
		if !ok {
			return fmt.Errorf("cannot decode %T into a bool", value)
		}
		*p = v
	case **bool: // an optional flag: nil when absent
		v, ok := value.(bool)
		if !ok {
			return fmt.Errorf("cannot decode %T into a bool", value)
		}
		*p = &v
	case *int64:
		f, err := number(value)
		if err != nil {
			return err
		}
		*p = int64(f)
	case *int:
		f, err := number(value)
		if err != nil {
			return err
		}
		*p = int(f)
	case *float64:
		f, err := number(value)
		if err != nil {
			return err
		}
		*p = f
	case **discordgo.User:
		if u := resolved.Users[id]; u != nil {
			*p = u
		}
	case **discordgo.Member:
		if m := resolved.Members[id]; m != nil {
			member := *m // resolved members lack their user
			member.User = resolved.Users[id]
			*p = &member
		}
	case **discordgo.Role:
		if role := resolved.Roles[id]; role != nil {
			*p = role
		}
	case **discordgo.Channel:
		if c := resolved.Channels[id]; c != nil {
			*p = c
		}
	default:
		return fmt.Errorf("unsupported field type %T", dst)
	}
	return nil
}

// number accepts JSON numbers and, as autocomplete sends them, numeric strings.
func number(value any) (float64, error) {
	switch v := value.(type) {
	case float64:
		return v, nil
	case string:
		if v == "" {
			return 0, nil
		}
		return strconv.ParseFloat(v, 64)
	default:
		return 0, fmt.Errorf("cannot decode %T into a number", value)
	}
}
