package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
)

// /bank request, its Approve and Deny buttons, and /bank adjust present
// package bank's requests and adjustments.

const (
	routeRequestApprove = "bank/request/approve/{id}"
	routeRequestDeny    = "bank/request/deny/{id}"
)

// amountOptions are the twelve resource options; min bounds them (nil:
// signed).
func amountOptions(min *float64) []*discordgo.ApplicationCommandOption {
	var opts []*discordgo.ApplicationCommandOption
	for _, r := range pnw.Resources {
		opts = append(opts, &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionNumber, Name: r.String(),
			Description: "How much " + r.String(), MinValue: min})
	}
	return opts
}

func (d *Deps) requestSubcommands() []*discordgo.ApplicationCommandOption {
	str := discordgo.ApplicationCommandOptionString
	zero := 0.0
	request := append([]*discordgo.ApplicationCommandOption{
		{Type: str, Name: "kind", Description: "withdraw (from your balance), grant or loan", Required: true,
			Choices: choices(bank.RequestWithdraw, bank.RequestGrant, bank.RequestLoan)},
		{Type: str, Name: "reason", Description: "What it is for", Required: true, MaxLength: bank.MaxReason},
	}, amountOptions(&zero)...)
	request = append(request, &discordgo.ApplicationCommandOption{Type: str, Name: "due", Description: "A loan's due date, YYYY-MM-DD", MaxLength: 10})
	adjust := append([]*discordgo.ApplicationCommandOption{
		{Type: str, Name: "nation", Description: "The nation (name or id)", Required: true, Autocomplete: true, MaxLength: maxNameLength},
		{Type: str, Name: "note", Description: "Why: it stays in the ledger", Required: true, MaxLength: bank.MaxNote},
	}, amountOptions(nil)...)
	return []*discordgo.ApplicationCommandOption{
		sub("request", "Ask the bankers for a withdrawal from your balance, a grant or a loan", request...),
		sub("adjust", "Correct a balance: positive amounts credit the nation, negative debit it", adjust...),
	}
}

func (d *Deps) requestRoutes() []route {
	manage := access.Alliance(access.ManageBank)
	return []route{
		{Path: "/bank/request", Need: access.Account, Handler: d.bankRequest, Ephemeral: true},
		// On the request's message in the bank channel: it changes for everyone there.
		{Path: routeRequestApprove, Need: manage, Handler: d.requestApprove},
		{Path: routeRequestDeny, Need: manage, Handler: d.requestDeny},
		{Path: "/bank/adjust", Need: manage, Handler: d.bankAdjust, Autocomplete: d.nationAutocomplete, Ephemeral: true},
	}
}

// bankRequest records a member's request and posts it in the bank channel
// for the bankers, once: a replay of the interaction posts it only when no
// run did (bank.AskRequest).
func (d *Deps) bankRequest(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Kind   string `discord:"kind"`
		Reason string `discord:"reason"`
		Due    string `discord:"due"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	want, err := amounts(req)
	if err != nil {
		return nil, err
	}
	var due time.Time
	if o.Due = strings.TrimSpace(o.Due); o.Due != "" {
		if due, err = time.Parse(time.DateOnly, o.Due); err != nil {
			return nil, bot.UserError("The due date is a day written YYYY-MM-DD, such as 2027-01-31. Nothing was asked.")
		}
	}
	if _, err := d.bankNation(ctx, req, 0); err != nil {
		return nil, err
	}
	a, u := req.Alliance, req.Account
	channel := bank.Channel(a)
	if channel == "" || d.Channels == nil {
		return nil, bot.UserErrorf("%s has no bank channel yet: ask a manager to choose one with /bank channel. Nothing was asked.", a.Name)
	}
	nationID := *u.PnwNationID
	r, err := d.Bank.AskRequest(ctx, bank.Member{User: u, Alliance: a, NationID: nationID, NationName: d.nationName(ctx, int(nationID))},
		req.Interaction.ID, o.Kind, want, o.Reason, due)
	var over *bank.OverBalance
	if errors.As(err, &over) {
		return nil, bot.UserError(over.Error())
	} else if err != nil {
		return nil, domainError(err, "Nothing was withdrawn.")
	}
	msg := requestMessage(r, a, req.User.ID)
	id := strconv.FormatInt(r.ID, 10)
	msg.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Approve", Style: discordgo.SuccessButton, CustomID: bot.CustomID(routeRequestApprove, id)},
		discordgo.Button{Label: "Deny", Style: discordgo.SecondaryButton, CustomID: bot.CustomID(routeRequestDeny, id)},
	}}}
	// Past the interaction's deadline too (a post that timed out ends ctx):
	// the claim on the post is given back, or what was posted recorded.
	messageID, err := d.Channels.SendChannelMessage(ctx, channel, msg, nil, nil)
	if err != nil {
		d.Logger.WarnContext(ctx, "bank request not posted", "request_id", r.ID, "error", err)
		if err := d.Bank.NotPosted(context.WithoutCancel(ctx), r.ID); err != nil {
			d.Logger.ErrorContext(ctx, "bank request left claimed", "request_id", r.ID, "error", err)
		}
		return nil, bot.UserErrorf("Your request #%d is recorded, but the bot could not post it in <#%s>: tell a banker (the bot needs to see that channel and send messages there).", r.ID, channel)
	}
	if err := d.Bank.Posted(context.WithoutCancel(ctx), r.ID, channel, messageID); err != nil {
		d.Logger.WarnContext(ctx, "bank request message", "request_id", r.ID, "error", err)
	}
	return &bot.Response{Ephemeral: true, Content: fmt.Sprintf("Request #%d is posted in <#%s>: you get a direct message when a banker decides.", r.ID, channel)}, nil
}

// requestMessage shows a request to the bankers.
func requestMessage(r store.BankRequest, a store.Alliance, memberDiscordID string) *bot.Response {
	var want pnw.Amounts
	_ = json.Unmarshal(r.Amounts, &want) // written by bank.AskRequest
	e := &discordgo.MessageEmbed{Title: truncate(fmt.Sprintf("Request #%d: %s for %s", r.ID, r.Kind, r.NationName), 256), Color: colorDefault,
		URL: nationURL(strconv.FormatInt(r.NationID, 10)),
		Fields: []*discordgo.MessageEmbedField{
			{Name: "Amounts", Value: fieldValue(bank.Text(want, false))},
			{Name: "Reason", Value: fieldValue(r.Reason)},
			{Name: "State", Value: r.State, Inline: true},
		}}
	if memberDiscordID != "" {
		e.Description = fmt.Sprintf("Asked by <@%s> in %s. A banker with canManageBank approves it with their own alliance key.", memberDiscordID, a.Name)
	}
	if r.Due != nil {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Due", Value: r.Due.Format(time.DateOnly), Inline: true})
	}
	if r.Kind == bank.RequestWithdraw {
		e.Footer = &discordgo.MessageEmbedFooter{Text: "Taken from the member's balance; checked again when approved."}
	}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}
}

// requestID reads the id a request's button carries.
func requestID(req *call) (int64, error) {
	id, err := strconv.ParseInt(req.Var("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, bot.UserError("This button is broken.")
	}
	return id, nil
}

// requestApprove sends the request (bank.Approve: once), shows how it
// ended on the request's message, and tells the member.
func (d *Deps) requestApprove(ctx context.Context, req *call) (*bot.Response, error) {
	id, err := requestID(req)
	if err != nil {
		return nil, err
	}
	r, w, err := d.Bank.Approve(ctx, manager(req), id)
	var decided *bank.Decided
	switch {
	case errors.As(err, &decided):
		return requestUpdate(decided.Request, req.Alliance, "Already "+decided.Request.State+": nothing more was sent."), nil
	case err != nil:
		return nil, domainError(err, "Nothing was withdrawn.")
	}
	text := "Approved by <@" + req.User.ID + ">. " + withdrawalStateText(w)
	d.tellMember(ctx, r, requestOutcome(r, w))
	if r.State == bank.RequestPending { // nothing was sent: it may be approved again
		resp := requestMessage(r, req.Alliance, "")
		resp.Type = bot.TypeUpdate
		resp.Embeds[0].Description = text
		return resp, nil
	}
	return requestUpdate(r, req.Alliance, text), nil
}

func (d *Deps) requestDeny(ctx context.Context, req *call) (*bot.Response, error) {
	id, err := requestID(req)
	if err != nil {
		return nil, err
	}
	r, err := d.Bank.Deny(ctx, manager(req), id)
	var decided *bank.Decided
	switch {
	case errors.As(err, &decided):
		return requestUpdate(decided.Request, req.Alliance, "Already "+decided.Request.State+"."), nil
	case err != nil:
		return nil, domainError(err, "Nothing was withdrawn.")
	}
	d.tellMember(ctx, r, fmt.Sprintf("Your bank request #%d (%s) in %s was denied.", r.ID, r.Kind, req.Alliance.Name))
	return requestUpdate(r, req.Alliance, "Denied by <@"+req.User.ID+">: nothing was sent."), nil
}

// requestUpdate replaces the request's message: its state, its buttons
// gone.
func requestUpdate(r store.BankRequest, a store.Alliance, text string) *bot.Response {
	resp := requestMessage(r, a, "")
	resp.Type = bot.TypeUpdate
	resp.Embeds[0].Description = text
	resp.Components = []discordgo.MessageComponent{}
	return resp
}

// requestOutcome tells the member how their approved request ended.
func requestOutcome(r store.BankRequest, w store.Withdrawal) string {
	what := fmt.Sprintf("Your bank request #%d (%s)", r.ID, r.Kind)
	switch w.State {
	case bank.Sent:
		return what + " was approved and sent: it is in your nation's resources now."
	case bank.Unknown:
		return what + " was approved, but the game did not say whether it went through: a banker is checking."
	default:
		return what + " was approved, but the game did not send it: a banker may try again."
	}
}

// tellMember sends the member who asked a direct message, when they have
// an account still.
func (d *Deps) tellMember(ctx context.Context, r store.BankRequest, text string) {
	if r.UserID == nil {
		return
	}
	u, err := d.Store.UserGetByID(ctx, *r.UserID)
	if err != nil {
		d.Logger.WarnContext(ctx, "bank request: member not told", "request_id", r.ID, "error", err)
		return
	}
	d.notices.Notify(ctx, u.DiscordID, text)
}

// bankAdjust corrects a nation's balance with a signed entry.
func (d *Deps) bankAdjust(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Nation string `discord:"nation"`
		Note   string `discord:"note"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	change, err := amounts(req)
	if err != nil {
		return nil, err
	}
	id, err := d.nationNames().resolve(ctx, strings.TrimSpace(o.Nation))
	if err != nil {
		return nil, err
	}
	before, after, err := d.Bank.Adjust(ctx, manager(req), req.Interaction.ID, int64(id), change, o.Note)
	if err != nil {
		return nil, domainError(err, "Nothing was withdrawn.")
	}
	e := &discordgo.MessageEmbed{Title: truncate(fmt.Sprintf("Balance of %s adjusted", d.nationName(ctx, id)), 256), Color: colorDefault,
		Fields: []*discordgo.MessageEmbedField{
			{Name: "Adjustment", Value: fieldValue(bank.Text(change, true))},
			{Name: "Before", Value: fieldValue(amountsOrNothing(before, false)), Inline: true},
			{Name: "After", Value: fieldValue(amountsOrNothing(after, false)), Inline: true},
			{Name: "Note", Value: fieldValue(strings.TrimSpace(o.Note))},
		}}
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}}, nil
}
