package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/keys"
	"pnwbot/members"
	"pnwbot/pnw"
)

// routeMemberConfirm carries what was asked and a token binding it to the
// manager, the alliance and an expiry.
const routeMemberConfirm = "alliance/member/{action}/{nation}/{value}/{token}"

// memberVerbs are /alliance member's game actions, worded for messages:
// "accept Bobistan into Rose".
var memberVerbs = map[members.Action]string{
	members.Accept:     "accept %s into %s",
	members.Remove:     "remove %s from %s",
	members.Position:   "make %s %s",
	members.TaxBracket: "put %s in tax bracket %s",
}

func (d *Deps) memberGroup() *discordgo.ApplicationCommandOption {
	nation := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "nation",
		Description: "The nation (name or id)", Required: true, Autocomplete: true, MaxLength: maxNameLength}
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc,
			Options: append([]*discordgo.ApplicationCommandOption{nation}, opts...)}
	}
	one := 1.0
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "member",
		Description: "Game actions on the alliance's members, confirmed first", Options: []*discordgo.ApplicationCommandOption{
			sub("accept", "Accept an applicant as a member"),
			sub("remove", "Remove a member (or turn down an applicant) from the alliance"),
			sub("position", "Give a member one of the game's default positions",
				&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "position", Description: "The position",
					Required: true, Choices: []*discordgo.ApplicationCommandOptionChoice{
						{Name: "member", Value: "MEMBER"}, {Name: "officer", Value: "OFFICER"}, {Name: "heir", Value: "HEIR"}}}),
			sub("tax-bracket", "Put a member in one of the alliance's tax brackets",
				&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "bracket",
					Description: "The tax bracket's id (in the game: Alliance, then Taxes)", Required: true, MinValue: &one}),
		}}
}

func (d *Deps) memberRoutes() []route {
	need := access.Alliance(access.ManageMembers)
	var routes []route
	for action := range memberVerbs {
		routes = append(routes, route{Path: "/alliance/member/" + string(action), Need: need, Handler: d.memberAsk(action), Autocomplete: d.nationAutocomplete, Ephemeral: true})
	}
	return append(routes, route{Path: routeMemberConfirm, Need: need, Handler: d.memberConfirm, Ephemeral: true})
}

// memberConfirmTTL is how long a member action's Confirm button works.
const memberConfirmTTL = 5 * time.Minute

func memberSubject(userID, allianceID int64, action string, nation int, value string) string {
	return fmt.Sprintf("alliance-member:%d:%d:%s:%d:%s", userID, allianceID, action, nation, value)
}

// memberAsk checks a member action (members.Check, then Ask) and asks for
// its confirmation.
func (d *Deps) memberAsk(action members.Action) handler {
	return func(ctx context.Context, req *call) (*bot.Response, error) {
		var opts struct {
			Nation   string `discord:"nation"`
			Position string `discord:"position"`
			Bracket  int    `discord:"bracket"`
		}
		if err := req.Options(&opts); err != nil {
			return nil, err
		}
		value := map[members.Action]string{members.Accept: "MEMBER", members.Remove: "REMOVE", members.Position: opts.Position,
			members.TaxBracket: strconv.Itoa(opts.Bracket)}[action]
		if action == members.Position && opts.Position != "MEMBER" && opts.Position != "OFFICER" && opts.Position != "HEIR" {
			return nil, bot.UserError("Pick the position from the list: member, officer or heir.")
		}
		if action == members.TaxBracket && opts.Bracket <= 0 {
			return nil, bot.UserError("Give the tax bracket's id, a number (in the game: Alliance, then Taxes).")
		}
		u, a := req.Account, req.Alliance
		m := manager(req)
		if err := d.Members.Check(ctx, m, action); err != nil {
			return nil, memberError(err)
		}
		id, err := d.nationNames().resolve(ctx, strings.TrimSpace(opts.Nation))
		if err != nil {
			return nil, err
		}
		target, err := d.Members.Ask(ctx, m, action, id)
		switch {
		case errors.Is(err, members.ErrNotListed):
			return nil, bot.UserErrorf("The game says nation %d is neither a member nor an applicant of %s. Nothing was done.", id, a.Name)
		case errors.Is(err, members.ErrNotApplicant):
			return nil, bot.UserErrorf("%s is not an applicant of %s: it is %s. Nothing was done.", target.NationName, a.Name, capitalize(string(target.AlliancePosition)))
		case errors.Is(err, members.ErrApplicant):
			return nil, bot.UserErrorf("%s is still an applicant: accept it first (/alliance member accept). Nothing was done.", target.NationName)
		case errors.Is(err, members.ErrLeader):
			return nil, bot.UserErrorf("%s leads %s: the game lets no one change the leader's place. Nothing was done.", target.NationName, a.Name)
		case err != nil:
			return nil, gameError(err, "Nothing was done.")
		}
		what := fmt.Sprintf(memberVerbs[action], target.NationName, strings.ToLower(value))
		if action == members.Accept || action == members.Remove {
			what = fmt.Sprintf(memberVerbs[action], target.NationName, a.Name)
		}
		expires := d.Now().Add(memberConfirmTTL)
		token := d.Keys.SignToken(memberSubject(u.ID, a.ID, string(action), id, value), expires)
		return &bot.Response{Ephemeral: true,
			Content: fmt.Sprintf("In the game, with your own key, %s? It is %s now. The button expires <t:%d:R>.",
				what, capitalize(string(target.AlliancePosition)), expires.Unix()),
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: "Confirm", Style: discordgo.DangerButton,
					CustomID: bot.CustomID(routeMemberConfirm, string(action), strconv.Itoa(id), value, token)},
				discordgo.Button{Label: "Cancel", Style: discordgo.SecondaryButton, CustomID: routeAllianceCancel},
			}}}}, nil
	}
}

// memberError words a refusal of members.Check or Confirm's key: the
// manager's own key, the bot key, or a game that did not answer.
func memberError(err error) error {
	var refused *keys.OwnRefused
	switch {
	case errors.As(err, &refused):
		return bot.UserError(refused.Message)
	case errors.Is(err, members.ErrNoBotKey):
		return bot.UserError("This pnwbot has no game bot key (PNW_BOT_KEY), without which the game refuses member actions: ask its operator. Nothing was done.")
	}
	return gameError(err, "Nothing was done.")
}

// memberConfirm does a confirmed member action in the game with the
// manager's own key (members.Confirm, which checks everything again on a
// fresh read and sends nothing already done) and says how it ended.
func (d *Deps) memberConfirm(ctx context.Context, req *call) (*bot.Response, error) {
	action := members.Action(req.Var("action"))
	_, ok := memberVerbs[action]
	nation, err := strconv.Atoi(req.Var("nation"))
	if !ok || err != nil {
		return nil, bot.UserError("This button is broken: run the command again.")
	}
	value := req.Var("value")
	u, a := req.Account, req.Alliance
	m := manager(req)
	if !d.Keys.VerifyToken(req.Var("token"), memberSubject(u.ID, a.ID, string(action), nation, value), d.Now()) {
		d.Members.Unconfirmed(ctx, m, nation) // audited; the answer replaces the buttons
		return updated("This confirmation has expired or is not yours: run the command again. Nothing was done."), nil
	}
	o, err := d.Members.Confirm(ctx, m, action, nation, value)
	switch {
	case errors.Is(err, members.ErrLeader):
		return nil, bot.UserErrorf("Nation %d leads %s: the game lets no one change the leader's place. Nothing was done.", nation, a.Name)
	case errors.Is(err, members.ErrApplicant):
		return nil, bot.UserErrorf("Nation %d is an applicant again: accept it first (/alliance member accept). Nothing was done.", nation)
	case err != nil:
		return nil, memberError(err)
	}
	old := o.Old
	switch {
	case o.State == members.NotInAlliance:
		return updated(fmt.Sprintf("Nation %d is no longer in %s. Nothing was done.", nation, a.Name)), nil
	case o.State == members.AlreadyDone && action == members.Remove:
		return updated(fmt.Sprintf("Already done: nation %d is not in %s. Nothing was sent again.", nation, a.Name)), nil
	case o.State == members.AlreadyDone && action == members.TaxBracket:
		return updated(fmt.Sprintf("Already done: nation %d is in tax bracket %s. Nothing was sent again.", nation, old)), nil
	case o.State == members.AlreadyDone:
		return updated(fmt.Sprintf("Already done: nation %d is %s. Nothing was sent again.", nation, strings.ToLower(old))), nil
	case o.State == members.Unknown:
		const maybe = "It may have gone through: check /alliance members before trying again."
		if errors.Is(o.Err, pnw.ErrGameDown) {
			return nil, gameError(o.Err, maybe)
		}
		return nil, bot.UserError("The game's answer does not say whether it was done. " + maybe)
	case o.State == members.Failed:
		var pe *pnw.Error
		if errors.As(o.Err, &pe) && (errors.Is(o.Err, pnw.ErrPermission) || errors.Is(o.Err, pnw.ErrInvalidQuery)) && pe.Message != "" {
			return nil, bot.UserErrorf("The game refused it: %s Nothing was changed.", pe.Message)
		}
		return nil, gameError(o.Err, "Nothing was changed.")
	}
	done := fmt.Sprintf("Done: nation %d was %s and is now %s in %s.", nation, strings.ToLower(old), strings.ToLower(value), a.Name)
	switch action {
	case members.Remove:
		done = fmt.Sprintf("Done: nation %d (was %s) is no longer in %s.", nation, strings.ToLower(old), a.Name)
	case members.TaxBracket:
		done = fmt.Sprintf("Done: nation %d moved from tax bracket %s to %s (%s).", nation, orNone(old, "none"), value, o.BracketName)
	}
	return updated(done + " /alliance members shows it."), nil
}

// orNone returns s, or def when s is empty or "0".
func orNone(s, def string) string {
	if s == "" || s == "0" {
		return def
	}
	return s
}
