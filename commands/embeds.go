package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/pnw"
)

const (
	colorDanger  = 0xd83c3e
	colorDefault = 0x5865f2
	gameURL      = "https://politicsandwar.com"
)

// nationColors maps the game's color blocs to embed colors.
var nationColors = map[string]int{
	"aqua": 0x00ffff, "beige": 0xd2b48c, "black": 0x2b2b2b, "blue": 0x3b5bdb, "brown": 0x8b5a2b,
	"green": 0x2f9e44, "lime": 0x82c91e, "maroon": 0x800000, "olive": 0x808000, "orange": 0xf76707,
	"pink": 0xf783ac, "purple": 0x7048e8, "red": 0xe03131, "white": 0xf8f9fa, "yellow": 0xfab005, "gray": 0x868e96,
}

func blocColor(color string) int {
	if c, ok := nationColors[strings.ToLower(color)]; ok {
		return c
	}
	return colorDefault
}

// maxFieldValue is Discord's limit on an embed field's value.
const maxFieldValue = 1024

// fieldValue makes text fit an embed field: Discord refuses an empty value,
// and the game leaves some names empty.
func fieldValue(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return truncate(s, maxFieldValue)
}

func nationURL(id string) string   { return gameURL + "/nation/id=" + id }
func allianceURL(id string) string { return gameURL + "/alliance/id=" + id }

// capitalize turns the game's LEADER or red into Leader or Red.
func capitalize(s string) string {
	s = strings.ToLower(s)
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func number(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// discordTime renders a time as Discord shows it to each reader: "3 hours ago".
func discordTime(t time.Time) string { return fmt.Sprintf("<t:%d:R>", t.Unix()) }

// relative renders a game timestamp as Discord's "3 hours ago".
func relative(gameTime string) string {
	t, err := pnw.ParseTime(gameTime)
	if err != nil || t.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("<t:%d:R>", t.Unix())
}

// staleNote dates an embed and, for data served from the cache past its
// freshness, says why with its age.
func staleNote[T any](e *discordgo.MessageEmbed, r pnw.Result[T]) {
	e.Timestamp = r.FetchedAt.UTC().Format(time.RFC3339)
	e.Footer = &discordgo.MessageEmbedFooter{Text: "Politics and War, fetched"}
	if r.Stale {
		note := fmt.Sprintf("⚠️ %s: this is cached data from <t:%d:R>.", upperFirst(staleReason(r.Why)), r.FetchedAt.Unix())
		e.Description = strings.TrimSpace(note + "\n" + e.Description)
	}
}

// staleReason says, in lower case, why fresh data could not be had.
func staleReason(why error) string {
	switch {
	case errors.Is(why, pnw.ErrBudgetLow):
		return "the bot has nearly used up today's game API requests and answers from its cache only"
	case errors.Is(why, pnw.ErrAllowanceSpent):
		return "you have used today's allowance of uncached game lookups"
	default:
		return "the game's API is not answering"
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func nationEmbed(r pnw.Result[pnw.Nation]) *discordgo.MessageEmbed {
	n := r.Data
	alliance := "None"
	if n.Alliance != nil && n.AllianceId != "0" {
		alliance = fmt.Sprintf("[%s](%s)", n.Alliance.Name, allianceURL(n.AllianceId))
		if p := capitalize(string(n.AlliancePosition)); p != "" {
			alliance += " · " + p
		}
	}
	e := &discordgo.MessageEmbed{
		Title: truncate(n.NationName, 256),
		URL:   nationURL(n.Id),
		Color: blocColor(n.Color),
		Fields: []*discordgo.MessageEmbedField{
			{Name: "Leader", Value: fieldValue(n.LeaderName), Inline: true},
			{Name: "Alliance", Value: alliance, Inline: true},
			{Name: "Score", Value: strconv.FormatFloat(n.Score, 'f', 2, 64), Inline: true},
			{Name: "Cities", Value: number(n.NumCities), Inline: true},
			{Name: "Color", Value: fieldValue(capitalize(n.Color)), Inline: true},
			{Name: "Last active", Value: relative(n.LastActive), Inline: true},
			{Name: "Military", Value: fmt.Sprintf("🪖 %s soldiers · %s tanks · ✈️ %s aircraft · 🚢 %s ships · 🚀 %s missiles · ☢️ %s nukes",
				number(n.Soldiers), number(n.Tanks), number(n.Aircraft), number(n.Ships), number(n.Missiles), number(n.Nukes))},
			{Name: "Active wars", Value: fmt.Sprintf("%d offensive · %d defensive", n.OffensiveWarsCount, n.DefensiveWarsCount), Inline: true},
		},
	}
	if n.VacationModeTurns > 0 {
		e.Description = fmt.Sprintf("In vacation mode for %d more turns.", n.VacationModeTurns)
	} else if n.BeigeTurns > 0 {
		e.Description = fmt.Sprintf("Beige for %d more turns.", n.BeigeTurns)
	}
	if strings.HasPrefix(n.Flag, "https://") {
		e.Thumbnail = &discordgo.MessageEmbedThumbnail{URL: n.Flag}
	}
	staleNote(e, r)
	return e
}

func allianceEmbed(r pnw.Result[pnw.Alliance]) *discordgo.MessageEmbed {
	a := r.Data
	title := a.Name
	if a.Acronym != "" {
		title += " (" + a.Acronym + ")"
	}
	e := &discordgo.MessageEmbed{
		Title: truncate(title, 256),
		URL:   allianceURL(a.Id),
		Color: blocColor(a.Color),
		Fields: []*discordgo.MessageEmbedField{
			{Name: "Rank", Value: "#" + number(a.Rank), Inline: true},
			{Name: "Score", Value: strconv.FormatFloat(a.Score, 'f', 2, 64), Inline: true},
			{Name: "Members", Value: number(a.MemberCount()), Inline: true},
			{Name: "Average score", Value: strconv.FormatFloat(a.AverageScore, 'f', 2, 64), Inline: true},
			{Name: "Color", Value: fieldValue(capitalize(a.Color)), Inline: true},
			{Name: "Recruiting", Value: map[bool]string{true: "Yes", false: "No"}[a.AcceptMembers], Inline: true},
		},
	}
	var links []string
	for _, l := range []struct{ name, url string }{{"Discord", a.DiscordLink}, {"Forum", a.ForumLink}, {"Wiki", a.WikiLink}} {
		if strings.HasPrefix(l.url, "https://") {
			links = append(links, fmt.Sprintf("[%s](%s)", l.name, l.url))
		}
	}
	if len(links) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Links", Value: fieldValue(strings.Join(links, " · "))})
	}
	if strings.HasPrefix(a.Flag, "https://") {
		e.Thumbnail = &discordgo.MessageEmbedThumbnail{URL: a.Flag}
	}
	staleNote(e, r)
	return e
}
