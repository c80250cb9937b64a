package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/keys"
	"pnwbot/store"
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
	u = d.GameKeys.Recheck(ctx, u, keys.RecheckAge)
	status := d.GameKeys.MemberStatus(ctx, u)
	e := &discordgo.MessageEmbed{Title: "Your pnwbot profile", Color: colorDefault}
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

	roles, err := d.roles(ctx, u)
	if err != nil {
		return nil, err
	}
	field("Roles", roles)
	prefs := userPreferences(u)
	field("Replies", map[bool]string{true: "Private", false: "Public"}[prefs.Private]+" (change with /preferences)")
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}, Ephemeral: true}, nil
}

// roles lists the caller's alliance roles and admin level.
func (d *Deps) roles(ctx context.Context, u store.User) (string, error) {
	var lines []string
	admin, err := d.Store.SystemAdminGetByUser(ctx, u.ID)
	if err == nil {
		lines = append(lines, "System "+strings.ReplaceAll(admin.Level, "_", " "))
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("admin role: %w", err)
	}
	managed, err := d.Store.AllianceManagerListByUser(ctx, u.ID)
	if err != nil {
		return "", fmt.Errorf("manager roles: %w", err)
	}
	for _, m := range managed {
		lines = append(lines, fmt.Sprintf("%s of [%s](%s)", capitalize(m.AllianceManager.Role), m.AllianceName, allianceURL(fmt.Sprint(m.PnwAllianceID))))
	}
	if len(lines) == 0 {
		return "Member", nil
	}
	return strings.Join(lines, "\n"), nil
}
