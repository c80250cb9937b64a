package commands

// /audit channel and /audit automation, and the audit pass that posts the
// daily report, reminds members and runs the automation.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bot"
	"pnwbot/ia"
	"pnwbot/pnw"
	"pnwbot/store"
)

const routeAuditUndo = "audit/undo/{move}"

func (d *Deps) auditChannel(ctx context.Context, req *call) (*bot.Response, error) {
	o := struct {
		Channel string `discord:"channel"`
		Hour    int    `discord:"hour"`
	}{Hour: d.Now().UTC().Hour()}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	if o.Hour < 0 || o.Hour > 23 {
		return nil, bot.UserError("The hour is a UTC hour from 0 to 23. Nothing was changed.")
	}
	if _, err := strconv.ParseUint(o.Channel, 10, 64); err != nil {
		return nil, bot.UserError("Pick a text channel of this server. Nothing was changed.")
	}
	u, a := req.Account, req.Alliance
	err := d.IA.SetChannel(ctx, u.ID, a, o.Channel, o.Hour)
	if err != nil {
		return nil, fmt.Errorf("set audit channel: %w", err)
	}
	return &bot.Response{Ephemeral: true, Content: fmt.Sprintf("The daily audit report of %s goes to <#%s> at %02d:00 UTC, by the first audit pass "+
		"after that hour (at most once a day); members failing a rule get a reminder by DM unless they turned them off in /preferences.", a.Name, o.Channel, o.Hour)}, nil
}

func (d *Deps) auditAutomation(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Days    int `discord:"days"`
		Bracket int `discord:"bracket"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	if o.Days < 0 || o.Days > maxRuleDays || o.Bracket <= 0 {
		return nil, bot.UserErrorf("Give days from 1 to %d (0 turns the automation off) and the tax bracket's id (in the game: Alliance, then Taxes). Nothing was changed.", maxRuleDays)
	}
	u, a := req.Account, req.Alliance
	if o.Days == 0 {
		err := d.IA.StopAutomation(ctx, u.ID, a)
		if errors.Is(err, store.ErrNotFound) {
			return &bot.Response{Ephemeral: true, Content: "The inactive-bracket automation was already off."}, nil
		} else if err != nil {
			return nil, fmt.Errorf("automation off: %w", err)
		}
		return &bot.Response{Ephemeral: true, Content: "The inactive-bracket automation is off. Members it moved stay where they are."}, nil
	}
	err := d.IA.SetAutomation(ctx, manager(req), o.Days, o.Bracket)
	if errors.Is(err, ia.ErrNoBotKey) {
		return nil, bot.UserError("This pnwbot has no game bot key (PNW_BOT_KEY), without which the game refuses to move members between brackets: ask its operator. Nothing was changed.")
	} else if err != nil {
		return nil, domainError(err, "Nothing was done.") // the own key's refusal, or a game that did not answer
	}
	return &bot.Response{Ephemeral: true, Content: fmt.Sprintf("From the next audit pass, members of %s inactive %d days or more move to tax bracket %d with your alliance key, "+
		"and back to their bracket once active again. Each move is audited and posted in the audit channel (/audit channel) with an Undo button.", a.Name, o.Days, o.Bracket)}, nil
}

// IANotices renders what the audit does and sends it with the bot:
// ia.Notifier.
type IANotices struct {
	Discord Channels // nil: nowhere to post
	Notices bot.Notifier
}

func (n IANotices) Report(ctx context.Context, channelID string, a store.Alliance, rep ia.Report, day time.Time) error {
	msg := &bot.Response{}
	if len(rep.Rules) == 0 {
		msg.Content = fmt.Sprintf("Daily audit of **%s**: no rules yet. A manager adds them with /audit rules set.", a.Name)
	} else {
		e := auditEmbed(a, rep)
		e.Title = truncate(fmt.Sprintf("Daily audit of %s · %s", a.Name, day.Format("2006-01-02")), 256)
		e.Description = fitLines(e.Description, auditLines(rep.Failing), "\n…and %d more: /audit run lists them all.")
		msg.Embeds = []*discordgo.MessageEmbed{e}
	}
	return n.post(ctx, channelID, msg)
}

func (n IANotices) Moved(ctx context.Context, channelID string, mv ia.Move, text string, back bool) error {
	msg := &bot.Response{Content: text}
	if !back {
		msg.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Undo", Style: discordgo.SecondaryButton, CustomID: bot.CustomID(routeAuditUndo, strconv.FormatInt(mv.ID, 10))},
		}}}
	}
	return n.post(ctx, channelID, msg)
}

func (n IANotices) Notify(ctx context.Context, discordID, text string) {
	n.Notices.Notify(ctx, discordID, text)
}

// post posts msg, pinging nobody.
func (n IANotices) post(ctx context.Context, channelID string, msg *bot.Response) error {
	if n.Discord == nil {
		return errors.New("no Discord to post in")
	}
	_, err := n.Discord.SendChannelMessage(ctx, channelID, msg, nil, nil)
	return err
}

// fitLines adds lines under head while the embed description has room,
// then says how many more there are.
func fitLines(head string, lines []string, more string) string {
	const room = 4096 - 100
	s := head + "\n"
	for i, l := range lines {
		if len(s)+len(l)+1 > room {
			return s + fmt.Sprintf(more, len(lines)-i)
		}
		s += "\n" + l
	}
	return s
}

// auditUndo is the Undo button of a move: the member goes back to the
// bracket it came from, with the clicking manager's own key.
func (d *Deps) auditUndo(ctx context.Context, req *call) (*bot.Response, error) {
	id, err := strconv.ParseInt(req.Var("move"), 10, 64)
	if err != nil {
		return nil, bot.UserError("This button is broken.")
	}
	mv, err := d.IA.Undo(ctx, manager(req), id)
	var pe *pnw.Error
	switch {
	case errors.Is(err, ia.ErrNotOurs):
		return nil, bot.UserError("This move is not one of this alliance's.")
	case errors.Is(err, ia.ErrRestored):
		return updated(fmt.Sprintf("Nation %d is already back in tax bracket %s.", mv.NationID, ia.BracketName(mv.FromBracket))), nil
	case errors.Is(err, pnw.ErrInvalidKey):
		return nil, bot.UserError("The game refused your alliance key: link your current one with /alliance key. Nothing was changed.")
	case errors.Is(err, pnw.ErrPermission) && errors.As(err, &pe) && pe.Message != "":
		return nil, bot.UserErrorf("The game refused it: %s Nothing was changed.", pe.Message)
	case err != nil:
		return nil, domainError(err, "Nothing was changed.") // also the own key's refusal
	}
	return updated(fmt.Sprintf("Undone by <@%s>: nation %d is back in tax bracket %s. The automation leaves it there until it is active again.",
		req.User.ID, mv.NationID, ia.BracketName(mv.FromBracket))), nil
}
