package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/store"
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
		return &bot.Response{Content: describePreferences(userPreferences(u)), Ephemeral: true}, nil
	}
	u, err := d.ensureUser(ctx, req)
	if err != nil {
		return nil, err
	}
	old := userPreferences(u)
	if err := d.allow(ctx, req, u, access.Member(access.EditOwnProfile)); err != nil {
		return nil, err
	}
	updatedPrefs := old
	if replies {
		updatedPrefs.Private = set.Replies == repliesPrivate
	}
	if set.AuditReminders != nil {
		updatedPrefs.AuditReminders = *set.AuditReminders
	}
	if set.ShareNation != nil {
		updatedPrefs.ShareNation = *set.ShareNation
	}
	raw, err := mergePreferences(u.Preferences, updatedPrefs)
	if err != nil {
		return nil, err
	}
	err = d.change(ctx, func(q *store.Queries) (audit.Entry, error) {
		_, err := q.UserSetPreferences(ctx, store.UserSetPreferencesParams{ID: u.ID, Preferences: raw})
		return audit.Entry{User: &u.ID, Action: "user.preferences", Resource: "user", ResourceID: strconv.FormatInt(u.ID, 10),
			Old: old, New: updatedPrefs}, err
	})
	if err != nil {
		return nil, fmt.Errorf("save preferences: %w", err)
	}
	return &bot.Response{Content: "Saved. " + describePreferences(updatedPrefs), Ephemeral: true}, nil
}

func describePreferences(p preferences) string {
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

// mergePreferences writes p over the stored object, keeping keys this
// version does not know.
func mergePreferences(stored json.RawMessage, p preferences) (json.RawMessage, error) {
	all := map[string]any{}
	if err := json.Unmarshal(stored, &all); err != nil {
		return nil, fmt.Errorf("stored preferences: %w", err)
	}
	all["private"] = p.Private
	all["audit_reminders"] = p.AuditReminders
	all["share_nation"] = p.ShareNation
	return json.Marshal(all)
}
