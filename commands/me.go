package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/keys"
)

func (d *Deps) meCommand() bot.Command {
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "me",
			Description: "Your pnwbot profile: nation, alliance, roles and key status",
		},
		Routes: d.routes(route{Path: "/me", Need: access.Member(access.ViewOwnData), Handler: d.me, Ephemeral: true}),
	}
}

func (d *Deps) me(ctx context.Context, req *call) (*bot.Response, error) {
	u := req.Account
	u, status := d.GameKeys.Recheck(ctx, u, keys.RecheckAge)
	// At most six fields: Nation, Alliance, Note, API key, Roles, Replies.
	e := &discordgo.MessageEmbed{Title: "Your pnwbot profile", Color: colorDefault, Fields: make([]*discordgo.MessageEmbedField, 0, 6)}
	field := func(name, value string) {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: name, Value: fieldValue(value)})
	}

	if u.PnwNationID == nil {
		field("Nation", "Not linked: use /link.")
	} else {
		nation := fmt.Sprintf("Nation %d", *u.PnwNationID)
		r, err := d.Game.Nation(ctx, int(*u.PnwNationID))
		switch {
		case err == nil:
			n := r.Data
			nation = fmt.Sprintf("[%s](%s), led by %s", n.NationName, nationURL(n.Id), n.LeaderName)
			alliance := "None"
			if n.Alliance != nil && n.AllianceId != "0" {
				alliance = fmt.Sprintf("[%s](%s) · %s", n.Alliance.Name, allianceURL(n.AllianceId), capitalize(string(n.AlliancePosition)))
			}
			field("Nation", nation)
			field("Alliance", alliance)
			if r.Stale {
				field("Note", upperFirst(staleReason(r.Why))+": nation data is cached.")
			}
		default:
			// The profile still answers from the database alone.
			d.Logger.WarnContext(ctx, "me: nation lookup", "error", err)
			field("Nation", nation+" ("+staleReason(err)+": details unavailable)")
		}
		field("API key", status.Text(discordTime))
	}

	field("Roles", roleLines(req.Caller))
	field("Replies", map[bool]string{true: "Private", false: "Public"}[req.Caller.Prefs.Private]+" (change with /preferences)")
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}, Ephemeral: true}, nil
}

// roleLines lists the alliance roles and admin level of c.
func roleLines(c Caller) string {
	var lines []string
	if c.Admin != nil {
		lines = append(lines, "System "+strings.ReplaceAll(c.Admin.Role, "_", " "))
	}
	for _, m := range c.Managed {
		lines = append(lines, fmt.Sprintf("%s of [%s](%s)", capitalize(m.Role), m.AllianceName, allianceURL(strconv.FormatInt(m.PnwAllianceID, 10))))
	}
	if len(lines) == 0 {
		return "Member"
	}
	return strings.Join(lines, "\n")
}
