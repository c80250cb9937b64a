package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/store"
)

// /alliance withdraw presents package bank's withdrawals: the rules, the
// state machine and the cap live there.

const (
	routeWithdrawConfirm = "alliance/withdraw/confirm/{id}"
	routeWithdrawCancel  = "alliance/withdraw/cancel/{id}"
)

func (d *Deps) withdrawSubcommand() *discordgo.ApplicationCommandOption {
	zero := 0.0
	opts := []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "recipient",
		Description: "The nation that receives it (name or id)", Required: true, Autocomplete: true, MaxLength: maxNameLength}}
	for _, r := range pnw.Resources {
		opts = append(opts, &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionNumber, Name: r.String(),
			Description: "How much " + r.String(), MinValue: &zero})
	}
	opts = append(opts, &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "note",
		Description: "The note on the game's bank record", MaxLength: bank.MaxNote})
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "withdraw",
		Description: "Send money and resources from the alliance bank (confirmed, sent at most once)", Options: opts}
}

func (d *Deps) withdrawRoutes() []route {
	need := access.Alliance(access.ManageBank)
	return []route{
		{Path: "/alliance/withdraw", Need: need, Handler: d.allianceWithdraw, Autocomplete: d.recipientAutocomplete, Ephemeral: true},
		// Only the manager who asked may press these (checked by withdrawal).
		{Path: routeWithdrawConfirm, Need: need, Handler: d.withdrawConfirm, Ephemeral: true},
		{Path: routeWithdrawCancel, Need: need, Handler: d.withdrawCancel, Ephemeral: true},
	}
}

func (d *Deps) recipientAutocomplete(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Recipient string `discord:"recipient"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	return d.nationNames().autocomplete(ctx, opts.Recipient)
}

// amounts reads the resource options; bank.Check judges them.
func amounts(req *call) (pnw.Amounts, error) {
	var out pnw.Amounts
	for _, r := range pnw.Resources {
		v, err := req.Number(r.String())
		if err != nil {
			return out, err
		}
		out[r] = v
	}
	return out, nil
}

// manager is the caller as the domain knows a manager acting with their
// own key, with the manager row the route's check loaded.
func manager(req *call) keys.Actor {
	return keys.Actor{User: req.Account, Alliance: req.Alliance, Row: req.Perms.Manager}
}

// allianceWithdraw asks package bank to record a withdrawal and shows it for
// confirmation; the Confirm button sends it.
func (d *Deps) allianceWithdraw(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Recipient string `discord:"recipient"`
		Note      string `discord:"note"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	want, err := amounts(req)
	if err != nil {
		return nil, err
	}
	id, err := d.nationNames().resolve(ctx, strings.TrimSpace(opts.Recipient))
	if err != nil {
		return nil, err
	}
	w, err := d.Bank.Ask(ctx, manager(req), id, want, opts.Note)
	if err != nil {
		return nil, domainError(err, "Nothing was withdrawn.")
	}
	a := req.Alliance
	wid := strconv.FormatInt(w.ID, 10)
	e := withdrawalEmbed(w, a)
	e.Description = fmt.Sprintf("Send this from the bank of %s with your own key? Nothing moves until you confirm; the buttons expire <t:%d:R>.",
		a.Name, w.ExpiresAt.Unix())
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e},
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Confirm", Style: discordgo.DangerButton, CustomID: bot.CustomID(routeWithdrawConfirm, wid)},
			discordgo.Button{Label: "Cancel", Style: discordgo.SecondaryButton, CustomID: bot.CustomID(routeWithdrawCancel, wid)},
		}}}}, nil
}

// withdrawConfirm sends the withdrawal its button names (bank.Confirm: at
// most once) and shows how it ended.
func (d *Deps) withdrawConfirm(ctx context.Context, req *call) (*bot.Response, error) {
	w, err := d.Bank.Confirm(ctx, manager(req), req.Var("id"))
	if err != nil {
		return nil, domainError(err, "Nothing was withdrawn.")
	}
	return withdrawalUpdate(w, req.Alliance), nil
}

func (d *Deps) withdrawCancel(ctx context.Context, req *call) (*bot.Response, error) {
	w, err := d.Bank.Cancel(ctx, manager(req), req.Var("id"))
	if err != nil {
		return nil, domainError(err, "Nothing was withdrawn.")
	}
	return withdrawalUpdate(w, req.Alliance), nil
}

// withdrawalEmbed shows a withdrawal: recipient, amounts, note, state.
func withdrawalEmbed(w store.Withdrawal, a store.Alliance) *discordgo.MessageEmbed {
	var want pnw.Amounts
	_ = json.Unmarshal(w.Amounts, &want) // written by bank.Ask
	receiver := fmt.Sprintf("[%s](%s)", w.ReceiverName, nationURL(strconv.FormatInt(w.ReceiverID, 10)))
	e := &discordgo.MessageEmbed{Title: truncate(fmt.Sprintf("Withdrawal #%d from %s", w.ID, a.Name), 256), Color: colorDanger,
		Fields: []*discordgo.MessageEmbedField{
			{Name: "Recipient", Value: fieldValue(receiver)},
			{Name: "Amounts", Value: fieldValue(bank.Text(want, false))},
			{Name: "Worth", Value: "$" + bank.Format(w.Value), Inline: true},
			{Name: "State", Value: w.State, Inline: true},
		}}
	if w.Note != "" {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Note", Value: fieldValue(w.Note)})
	}
	return e
}

// withdrawalUpdate replaces the confirmation with the withdrawal's state,
// its buttons gone.
func withdrawalUpdate(w store.Withdrawal, a store.Alliance) *bot.Response {
	e := withdrawalEmbed(w, a)
	e.Description = withdrawalStateText(w)
	return &bot.Response{Type: bot.TypeUpdate, Embeds: []*discordgo.MessageEmbed{e}, Components: []discordgo.MessageComponent{}}
}

// withdrawalStateText tells the manager what happened and what to do.
func withdrawalStateText(w store.Withdrawal) string {
	reason := ""
	if w.Error != nil {
		reason = truncate(*w.Error, 300)
	}
	switch w.State {
	case bank.Sent:
		rec := ""
		if w.BankrecID != nil {
			rec = " (bank record #" + *w.BankrecID + ")"
		}
		return "Sent" + rec + ". /alliance bank-history shows it."
	case bank.Sending:
		return "It is being sent right now, by an earlier click: it is sent once. Look again with /alliance bank-history in a minute."
	case bank.Failed:
		return "Nothing was sent: " + reason + ". Fix that, then run /alliance withdraw again."
	case bank.Unknown:
		return "**Unknown outcome**: the game did not answer clearly, so it may or may not have been sent. It will not be retried. " +
			"Check /alliance bank-history (or the bank in the game) before asking again."
	case bank.Cancelled:
		return "Cancelled: nothing was sent."
	case bank.Expired:
		return "This confirmation expired: nothing was sent. Run /alliance withdraw again."
	}
	return "Waiting for confirmation."
}
