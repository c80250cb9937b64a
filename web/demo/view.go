package demo

import (
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bot/fakediscord"
)

// render turns the bot's response to a into what the page shows.
func (p *Page) render(r *fakediscord.Reply, a action) (result, error) {
	switch r.Type {
	case discordgo.InteractionApplicationCommandAutocompleteResult:
		return result{Kind: "choices", Choices: r.Choices}, nil
	case discordgo.InteractionResponseModal:
		html, err := execute("modal", modalOf(r))
		return result{Kind: "modal", HTML: html}, err
	case discordgo.InteractionResponseDeferredMessageUpdate:
		return result{Kind: "deferred"}, nil // the clicked message stays until its edit
	case discordgo.InteractionResponseUpdateMessage:
		html, err := renderMessage(r, "", p.world)
		return result{Kind: "update", HTML: html}, err
	}
	invoker := ""
	if a.Type == "command" {
		invoker = p.world.user(a.User).Name + " used /" + strings.TrimPrefix(a.Command, "/")
	}
	html, err := renderMessage(r, invoker, p.world)
	if r.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		return result{Kind: "deferred", HTML: html}, err
	}
	return result{Kind: "message", HTML: html}, err
}

type messageView struct {
	Invoker  string // "tess used /me" above a reply to a command
	Private  bool
	Thinking bool // a deferred response, until its edit
	Content  template.HTML
	Embeds   []embedView
	Rows     [][]buttonView
}

type embedView struct {
	Title, URL, Author, Footer, Time string
	Color                            string // CSS
	Description                      template.HTML
	Fields                           []fieldView
}

type fieldView struct {
	Name   string
	Value  template.HTML
	Inline bool
}

type buttonView struct {
	Label, Style, CustomID, URL string
	Disabled                    bool
}

type modalView struct {
	CustomID, Title string
	Inputs          []inputView
}

type inputView struct {
	*discordgo.TextInput
	Paragraph bool
}

func renderMessage(r *fakediscord.Reply, invoker string, w World) (string, error) {
	v := messageView{
		Invoker: invoker, Private: r.Ephemeral(), Content: w.markdown(r.Content),
		Thinking: r.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource,
	}
	for _, e := range r.Embeds {
		ev := embedView{Title: e.Title, URL: e.URL, Description: w.markdown(e.Description), Color: fmt.Sprintf("#%06x", e.Color)}
		if e.Author != nil {
			ev.Author = e.Author.Name
		}
		if e.Footer != nil {
			ev.Footer = e.Footer.Text
		}
		if t, err := time.Parse(time.RFC3339, e.Timestamp); err == nil {
			ev.Time = relativeTime(t, time.Now())
		}
		for _, f := range e.Fields {
			ev.Fields = append(ev.Fields, fieldView{Name: f.Name, Value: w.markdown(f.Value), Inline: f.Inline})
		}
		v.Embeds = append(v.Embeds, ev)
	}
	for _, c := range r.Components {
		row, ok := c.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		var buttons []buttonView
		for _, c := range row.Components {
			if b, ok := c.(*discordgo.Button); ok {
				buttons = append(buttons, buttonView{Label: b.Label, Style: buttonStyles[b.Style], CustomID: b.CustomID, URL: b.URL, Disabled: b.Disabled})
			}
		}
		v.Rows = append(v.Rows, buttons)
	}
	return execute("message", v)
}

var buttonStyles = map[discordgo.ButtonStyle]string{
	discordgo.PrimaryButton: "primary", discordgo.SecondaryButton: "secondary", discordgo.SuccessButton: "success",
	discordgo.DangerButton: "danger", discordgo.LinkButton: "link",
}

func modalOf(r *fakediscord.Reply) modalView {
	v := modalView{CustomID: r.CustomID, Title: r.Title}
	for _, c := range r.Components {
		if row, ok := c.(*discordgo.ActionsRow); ok {
			for _, c := range row.Components {
				if in, ok := c.(*discordgo.TextInput); ok {
					v.Inputs = append(v.Inputs, inputView{in, in.Style == discordgo.TextInputParagraph})
				}
			}
		}
	}
	return v
}

func execute(name string, data any) (string, error) {
	var b strings.Builder
	err := templates.ExecuteTemplate(&b, name, data)
	return b.String(), err
}

// The markdown the bot writes, after HTML escaping.
var (
	boldRE    = regexp.MustCompile(`\*\*(.+?)\*\*`)
	codeRE    = regexp.MustCompile("`([^`]+)`")
	mentionRE = regexp.MustCompile(`&lt;@!?(\d+)&gt;`)
	roleRE    = regexp.MustCompile(`&lt;@&amp;(\d+)&gt;`)
	channelRE = regexp.MustCompile(`&lt;#(\d+)&gt;`)
	timeRE    = regexp.MustCompile(`&lt;t:(-?\d+)(?::([tTdDfFR]))?&gt;`)
	linkRE    = regexp.MustCompile(`\[([^\]]+)\]\((https?://[^\s)]+)\)`)
)

// markdown renders the part of Discord's markdown the bot uses: bold, code,
// masked links, user, role and channel mentions and timestamps.
func (w World) markdown(s string) template.HTML {
	s = template.HTMLEscapeString(s)
	s = boldRE.ReplaceAllString(s, "<strong>$1</strong>")
	s = codeRE.ReplaceAllString(s, "<code>$1</code>")
	s = linkRE.ReplaceAllString(s, `<a href="$2" target="_blank" rel="noopener">$1</a>`)
	s = mentionRE.ReplaceAllStringFunc(s, func(m string) string {
		name := "unknown-user"
		if u := w.user(mentionRE.FindStringSubmatch(m)[1]); u != nil {
			name = u.Name
		}
		return `<span class="mention">@` + name + `</span>`
	})
	s = roleRE.ReplaceAllStringFunc(s, func(m string) string {
		name := "deleted-role"
		if r := w.role(roleRE.FindStringSubmatch(m)[1]); r != nil {
			name = template.HTMLEscapeString(r.Name)
		}
		return `<span class="mention">@` + name + `</span>`
	})
	s = channelRE.ReplaceAllStringFunc(s, func(m string) string {
		name := "unknown"
		if c, ok := w.discord.Channel(channelRE.FindStringSubmatch(m)[1]); ok {
			name = template.HTMLEscapeString(c.Name)
		}
		return `<span class="mention">#` + name + `</span>`
	})
	s = timeRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := timeRE.FindStringSubmatch(m)
		sec, _ := strconv.ParseInt(sub[1], 10, 64)
		t := time.Unix(sec, 0)
		if sub[2] == "R" {
			return `<span class="time">` + relativeTime(t, time.Now()) + `</span>`
		}
		return `<span class="time">` + t.UTC().Format("2 January 2006 15:04 UTC") + `</span>`
	})
	return template.HTML(s) // escaped above; only our own tags added
}

// relativeTime says when t is from now, as Discord's <t:…:R> does.
func relativeTime(t, now time.Time) string {
	d := t.Sub(now)
	future := d > 0
	d = d.Abs()
	var s string
	switch {
	case d < time.Minute:
		s = "a few seconds"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	case d < 365*24*time.Hour:
		s = plural(int(d/(24*time.Hour)), "day")
	default:
		s = plural(int(d/(365*24*time.Hour)), "year")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
