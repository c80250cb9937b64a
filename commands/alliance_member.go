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
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/store"
)

// routeMemberConfirm carries what was asked and a token binding it to the
// manager, the alliance and an expiry.
const routeMemberConfirm = "alliance/member/{action}/{nation}/{value}/{token}"

// memberAction is one of /alliance member's game actions.
type memberAction struct {
	name     string // the subcommand
	gamePerm string // what the manager's own key needs in the game
	verb     string // for messages: "accept Bobistan into Rose"
}

var memberActions = map[string]memberAction{
	"accept":      {"accept", "alliance_accept_applicants", "accept %s into %s"},
	"remove":      {"remove", "alliance_remove_members", "remove %s from %s"},
	"position":    {"position", "alliance_change_permissions", "make %s %s"},
	"tax-bracket": {"tax-bracket", "alliance_tax_brackets", "put %s in tax bracket %s"},
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
	for name, action := range memberActions {
		routes = append(routes, route{Path: "/alliance/member/" + name, Need: need, Handler: d.memberAsk(action), Autocomplete: d.nationAutocomplete, Ephemeral: true})
	}
	return append(routes, route{Path: routeMemberConfirm, Need: need, Handler: d.memberConfirm, Ephemeral: true})
}

// memberConfirmTTL is how long a member action's Confirm button works.
const memberConfirmTTL = 5 * time.Minute

// refusal returns a function that audits a refused member action (on
// nation id, "" before one is named) and answers with msg.
func (d *Deps) refusal(ctx context.Context, u store.User, a store.Alliance, id string) func(reason, msg string) error {
	return func(reason, msg string) error {
		d.audit(ctx, audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "alliance.member", Resource: "nation", ResourceID: id, Failed: true,
			New: map[string]any{"reason": reason}})
		return bot.UserError(msg)
	}
}

// ownKey opens the caller's own alliance key when the game lets it do perm
// for the server's alliance now (keys.OwnKey, with the manager row the
// route's check loaded); otherwise refuse answers why.
func (d *Deps) ownKey(ctx context.Context, req *call, perm string, refuse func(reason, msg string) error) (keys.Own, error) {
	own, err := d.GameKeys.OwnKey(ctx, req.Account, req.Alliance, req.Perms.Manager, perm)
	var refused *keys.OwnRefused
	if errors.As(err, &refused) {
		return own, refuse(refused.Reason, refused.Message)
	} else if err != nil {
		return own, gameError(err, "Nothing was done.")
	}
	return own, nil
}

func memberSubject(userID, allianceID int64, action string, nation int, value string) string {
	return fmt.Sprintf("alliance-member:%d:%d:%s:%d:%s", userID, allianceID, action, nation, value)
}

// memberAsk checks a member action and asks for its confirmation.
func (d *Deps) memberAsk(action memberAction) handler {
	return func(ctx context.Context, req *call) (*bot.Response, error) {
		var opts struct {
			Nation   string `discord:"nation"`
			Position string `discord:"position"`
			Bracket  int    `discord:"bracket"`
		}
		if err := req.Options(&opts); err != nil {
			return nil, err
		}
		value := map[string]string{"accept": "MEMBER", "remove": "REMOVE", "position": opts.Position, "tax-bracket": strconv.Itoa(opts.Bracket)}[action.name]
		if action.name == "position" && opts.Position != "MEMBER" && opts.Position != "OFFICER" && opts.Position != "HEIR" {
			return nil, bot.UserError("Pick the position from the list: member, officer or heir.")
		}
		if action.name == "tax-bracket" && opts.Bracket <= 0 {
			return nil, bot.UserError("Give the tax bracket's id, a number (in the game: Alliance, then Taxes).")
		}
		u, a := req.Account, req.Alliance
		refuse := d.refusal(ctx, u, a, "")
		if _, err := d.ownKey(ctx, req, action.gamePerm, refuse); err != nil {
			return nil, err
		}
		if !d.Game.CanMutate() {
			return nil, refuse("no bot key", "This pnwbot has no game bot key (PNW_BOT_KEY), without which the game refuses member actions: ask its operator. Nothing was done.")
		}
		id, err := d.nationNames().resolve(ctx, strings.TrimSpace(opts.Nation))
		if err != nil {
			return nil, err
		}
		members, err := d.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
		if err != nil {
			return nil, gameError(err, "Nothing was done.")
		}
		var target *pnw.Nation
		for i := range members.Data {
			if members.Data[i].Id == strconv.Itoa(id) {
				target = &members.Data[i]
			}
		}
		applicant := target != nil && !target.AlliancePosition.IsMember()
		switch {
		case target == nil:
			return nil, bot.UserErrorf("The game says nation %d is neither a member nor an applicant of %s. Nothing was done.", id, a.Name)
		case action.name == "accept" && !applicant:
			return nil, bot.UserErrorf("%s is not an applicant of %s: it is %s. Nothing was done.", target.NationName, a.Name, capitalize(string(target.AlliancePosition)))
		case action.name != "accept" && action.name != "remove" && applicant:
			return nil, bot.UserErrorf("%s is still an applicant: accept it first (/alliance member accept). Nothing was done.", target.NationName)
		case target.AlliancePosition == pnw.AlliancePositionEnumLEADER:
			return nil, bot.UserErrorf("%s leads %s: the game lets no one change the leader's place. Nothing was done.", target.NationName, a.Name)
		}
		what := fmt.Sprintf(action.verb, target.NationName, strings.ToLower(value))
		if action.name == "accept" || action.name == "remove" {
			what = fmt.Sprintf(action.verb, target.NationName, a.Name)
		}
		expires := d.Now().Add(memberConfirmTTL)
		token := d.Keys.SignToken(memberSubject(u.ID, a.ID, action.name, id, value), expires)
		return &bot.Response{Ephemeral: true,
			Content: fmt.Sprintf("In the game, with your own key, %s? It is %s now. The button expires <t:%d:R>.",
				what, capitalize(string(target.AlliancePosition)), expires.Unix()),
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: "Confirm", Style: discordgo.DangerButton,
					CustomID: bot.CustomID(routeMemberConfirm, action.name, strconv.Itoa(id), value, token)},
				discordgo.Button{Label: "Cancel", Style: discordgo.SecondaryButton, CustomID: routeAllianceCancel},
			}}}}, nil
	}
}

// memberConfirm does a confirmed member action in the game with the
// manager's own key, after checking everything again, and audits it with
// the old and new position or bracket. The game's standing is read fresh
// first: an action already done (a second click) is not sent again.
func (d *Deps) memberConfirm(ctx context.Context, req *call) (*bot.Response, error) {
	action, ok := memberActions[req.Var("action")]
	nation, err := strconv.Atoi(req.Var("nation"))
	if !ok || err != nil {
		return nil, bot.UserError("This button is broken: run the command again.")
	}
	value := req.Var("value")
	u := req.Account
	a := req.Alliance
	refuse := d.refusal(ctx, u, a, strconv.Itoa(nation))
	if !d.Keys.VerifyToken(req.Var("token"), memberSubject(u.ID, a.ID, action.name, nation, value), d.Now()) {
		_ = refuse("expired or not theirs", "") // audited; the answer replaces the buttons
		return updated("This confirmation has expired or is not yours: run the command again. Nothing was done."), nil
	}
	k, err := d.ownKey(ctx, req, action.gamePerm, refuse)
	if err != nil {
		return nil, err
	}
	before, err := d.Game.NationStanding(ctx, k.Key, nation)
	if err != nil {
		d.GameKeys.Refused(ctx, a, k, err)
		return nil, gameError(err, "Nothing was done.")
	}
	old := string(before.Position)
	if action.name == "tax-bracket" {
		old = before.TaxID
	}
	inAlliance := before.AllianceID == strconv.FormatInt(a.PnwAllianceID, 10)
	switch {
	case !inAlliance && action.name == "remove":
		return updated(fmt.Sprintf("Already done: nation %d is not in %s. Nothing was sent again.", nation, a.Name)), nil
	case !inAlliance:
		return updated(fmt.Sprintf("Nation %d is no longer in %s. Nothing was done.", nation, a.Name)), nil
	case before.Position == pnw.AlliancePositionEnumLEADER:
		return nil, refuse("leader", fmt.Sprintf("Nation %d leads %s: the game lets no one change the leader's place. Nothing was done.", nation, a.Name))
	case !before.Position.IsMember() && action.name != "accept" && action.name != "remove":
		return nil, refuse("applicant", fmt.Sprintf("Nation %d is an applicant again: accept it first (/alliance member accept). Nothing was done.", nation))
	case old == value && action.name == "tax-bracket":
		return updated(fmt.Sprintf("Already done: nation %d is in tax bracket %s. Nothing was sent again.", nation, old)), nil
	case old == value:
		return updated(fmt.Sprintf("Already done: nation %d is %s. Nothing was sent again.", nation, strings.ToLower(old))), nil
	}
	newValues := map[string]any{"position": value}
	oldValues := map[string]any{"position": old}
	if action.name == "tax-bracket" {
		bracket, _ := strconv.Atoi(value)
		var b pnw.TaxBracket
		b, err = d.Game.AssignTaxBracket(ctx, k.Key, int(a.PnwAllianceID), nation, bracket)
		oldValues, newValues = map[string]any{"tax_bracket": old}, map[string]any{"tax_bracket": value, "bracket_name": b.BracketName}
	} else {
		err = d.Game.AssignAlliancePosition(ctx, k.Key, int(a.PnwAllianceID), nation, pnw.DefaultAlliancePosition(value))
	}
	e := audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "alliance.member_" + strings.ReplaceAll(action.name, "-", "_"), Resource: "nation",
		ResourceID: strconv.Itoa(nation), Old: oldValues, New: newValues}
	if err != nil {
		d.GameKeys.Refused(ctx, a, k, err)
		e.Failed = true
		newValues["error"] = err.Error()
		d.audit(context.WithoutCancel(ctx), e)
		if !pnw.NotExecuted(err) {
			const maybe = "It may have gone through: check /alliance members before trying again."
			if errors.Is(err, pnw.ErrGameDown) {
				return nil, gameError(err, maybe)
			}
			return nil, bot.UserError("The game's answer does not say whether it was done. " + maybe)
		}
		var pe *pnw.Error
		if errors.As(err, &pe) && (errors.Is(err, pnw.ErrPermission) || errors.Is(err, pnw.ErrInvalidQuery)) && pe.Message != "" {
			return nil, bot.UserErrorf("The game refused it: %s Nothing was changed.", pe.Message)
		}
		return nil, gameError(err, "Nothing was changed.")
	}
	d.audit(context.WithoutCancel(ctx), e)
	done := fmt.Sprintf("Done: nation %d was %s and is now %s in %s.", nation, strings.ToLower(old), strings.ToLower(value), a.Name)
	switch action.name {
	case "remove":
		done = fmt.Sprintf("Done: nation %d (was %s) is no longer in %s.", nation, strings.ToLower(old), a.Name)
	case "tax-bracket":
		done = fmt.Sprintf("Done: nation %d moved from tax bracket %s to %s (%s).", nation, orNone(old, "none"), value, newValues["bracket_name"])
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
