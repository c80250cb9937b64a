package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
)

const (
	repliesPrivate = "private"
	repliesPublic  = "public"
)

func (d *Deps) preferencesCommand() bot.Command {
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "preferences",
			Description: "See or change your pnwbot settings",
			Options: []*discordgo.ApplicationCommandOption{{
				Type:        discordgo.ApplicationCommandOptionString,
				Name:        "replies",
				Description: "Who sees the bot's replies to your commands",
				Choices: []*discordgo.ApplicationCommandOptionChoice{
					{Name: "Private: only me", Value: repliesPrivate},
					{Name: "Public: everyone in the channel", Value: repliesPublic},
				},
			}, {
				Type:        discordgo.ApplicationCommandOptionBoolean,
				Name:        "audit_reminders",
				Description: "Whether your alliance's daily audit DMs you the rules you fail (on by default)",
			}, {
				Type:        discordgo.ApplicationCommandOptionBoolean,
				Name:        "share_nation",
				Description: "Whether other members see your linked nation with /nation user:@you (on by default)",
			}},
		},
		Routes: d.routes(route{Path: "/preferences", Handler: d.preferences, Ephemeral: true}),
	}
}

func (d *Deps) preferences(ctx context.Context, req *call) (*bot.Response, error) {
	var set struct {
		Replies        string `discord:"replies"`
		AuditReminders *bool  `discord:"audit_reminders"`
		ShareNation    *bool  `discord:"share_nation"`
	}
	if err := req.Options(&set); err != nil {
		return nil, err
	}
	replies := set.Replies == repliesPrivate || set.Replies == repliesPublic
	if !replies && set.AuditReminders == nil && set.ShareNation == nil {
		u, err := d.findUser(req) // without an account, the defaults
		if errors.Is(err, errDatabaseDown) {
			return nil, err
		}
		return &bot.Response{Content: describePreferences(access.PreferencesOf(u.Preferences)), Ephemeral: true}, nil
	}
	u, err := d.ensureUser(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := d.allow(ctx, req, u, access.Member(access.EditOwnProfile)); err != nil {
		return nil, err
	}
	p := access.PreferencesOf(u.Preferences)
	if replies {
		p.Private = set.Replies == repliesPrivate
	}
	if set.AuditReminders != nil {
		p.AuditReminders = *set.AuditReminders
	}
	if set.ShareNation != nil {
		p.ShareNation = *set.ShareNation
	}
	if err := d.Access.SetPreferences(ctx, u, p); err != nil {
		return nil, fmt.Errorf("save preferences: %w", err)
	}
	return &bot.Response{Content: "Saved. " + describePreferences(p), Ephemeral: true}, nil
}

func describePreferences(p access.Preferences) string {
	s := "Replies to your commands are public, except those about your account and keys, which are always private."
	if p.Private {
		s = "Replies to your commands are private: only you see them."
	}
	if p.AuditReminders {
		s += " Your alliance's daily audit DMs you the rules you fail."
	} else {
		s += " You get no audit reminders by DM."
	}
	if p.ShareNation {
		return s + " Other members can see your linked nation with /nation user:@you."
	}
	return s + " Your linked nation is private: /nation user:@you shows it to nobody but you."
}
