package commands

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/secrets"
	"pnwbot/settings"
	"pnwbot/store"
)

const (
	routeWithdrawConfirm = "alliance/withdraw/confirm/{id}"
	routeWithdrawCancel  = "alliance/withdraw/cancel/{id}"

	// withdrawConfirmTTL is how long the Confirm button works.
	withdrawConfirmTTL = 5 * time.Minute
	// withdrawStuckAfter is when a row still sending has outlived any
	// handler (they get a minute): its process stopped, and it is unknown.
	withdrawStuckAfter = 5 * time.Minute
	maxNoteLength      = 100
	// maxAmount bounds each amount: more than any bank holds, and small
	// enough that float64 keeps every cent of it exact.
	maxAmount = 1e13
)

// Withdrawal states (withdrawals.state).
const (
	withdrawPending   = "pending"
	withdrawSending   = "sending"
	withdrawSent      = "sent"
	withdrawFailed    = "failed"
	withdrawUnknown   = "unknown"
	withdrawCancelled = "cancelled"
	withdrawExpired   = "expired"
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
		Description: "The note on the game's bank record", MaxLength: maxNoteLength})
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

// amounts reads the resource options: each finite and not negative, and at
// least one above zero.
func amounts(req *call) (pnw.Amounts, error) {
	var out pnw.Amounts
	for _, r := range pnw.Resources {
		v, err := req.Number(r.String())
		switch {
		case err != nil:
			return out, err
		case math.IsNaN(v) || math.IsInf(v, 0):
			return out, bot.UserErrorf("The amount of %s is not a number. Nothing was withdrawn.", r)
		case v < 0:
			return out, bot.UserErrorf("The amount of %s is negative: amounts are what leaves the bank, 0 or more. Nothing was withdrawn.", r)
		case v > maxAmount:
			return out, bot.UserErrorf("The amount of %s is too large: at most %s. Nothing was withdrawn.", r, amount(maxAmount))
		case math.Round(v*100)/100 != v:
			// The game keeps two decimals; the confirmation shows what is sent.
			return out, bot.UserErrorf("The amount of %s has more than two decimals, which the game does not keep. Nothing was withdrawn.", r)
		}
		out[r] = v
	}
	if out.IsZero() {
		return out, bot.UserError("Give at least one amount above zero (money, food, steel...). Nothing was withdrawn.")
	}
	return out, nil
}

// allianceWithdraw checks a withdrawal and asks for its confirmation; the
// Confirm button sends it.
func (d *Deps) allianceWithdraw(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Recipient string `discord:"recipient"`
		Note      string `discord:"note"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	u := req.Account
	a := req.Alliance
	want, err := amounts(req)
	if err != nil {
		return nil, err
	}
	note := strings.TrimSpace(opts.Note)
	if len([]rune(note)) > maxNoteLength {
		return nil, bot.UserErrorf("The note is too long: at most %d characters. Nothing was withdrawn.", maxNoteLength)
	}
	refuse := d.withdrawRefusal(ctx, u, a, 0)
	if _, err := d.ownGameKey(ctx, u, a, "alliance_withdraw_bank", refuse); err != nil {
		return nil, err
	}
	if !d.Game.CanMutate() {
		return nil, refuse("no bot key", "This pnwbot has no game bot key (PNW_BOT_KEY), without which the game refuses withdrawals: ask its operator. Nothing was withdrawn.")
	}
	q := strings.TrimSpace(opts.Recipient)
	id, err := d.nationNames().resolve(ctx, q)
	if err != nil {
		return nil, err
	}
	receiver, err := d.Game.Nation(ctx, id)
	if errors.Is(err, pnw.ErrNotFound) {
		return nil, bot.UserErrorf("The game has no nation with id %d. Nothing was withdrawn.", id)
	} else if err != nil {
		return nil, gameError(err, "Nothing was withdrawn.")
	}
	if short := d.overdraft(ctx, a, want); short != "" {
		return nil, refuse("above the bank", fmt.Sprintf("The bank holds less than that: %s. Nothing was withdrawn.", short))
	}
	value, err := d.worth(ctx, want)
	if err != nil {
		return nil, err
	}
	limit, err := d.withdrawalCap(ctx)
	if err != nil {
		return nil, refuse("cap unread", capUnread)
	}
	if left, ok, err := d.withinCap(ctx, d.Store.Queries, u.ID, value, limit); err != nil {
		return nil, err
	} else if !ok {
		return nil, refuse("daily cap", capMessage(left))
	}
	raw, err := json.Marshal(want)
	if err != nil {
		return nil, err
	}
	var w store.Withdrawal
	err = d.change(ctx, func(q *store.Queries) (auditEntry, error) {
		w, err = q.WithdrawalCreate(ctx, store.WithdrawalCreateParams{AllianceID: a.ID, RequestedBy: &u.ID, ReceiverType: pnw.ReceiverNation,
			ReceiverID: int64(id), ReceiverName: receiver.Data.NationName, Amounts: raw, Value: value, Note: note, ExpiresAt: d.Now().Add(withdrawConfirmTTL)})
		return withdrawAudit(w, &u.ID, "", withdrawPending, map[string]any{"receiver_id": id, "receiver_name": w.ReceiverName,
			"amounts": json.RawMessage(raw), "value": value, "note": note}), err
	})
	if err != nil {
		return nil, fmt.Errorf("create withdrawal: %w", err)
	}
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

// refusal returns a function that audits a refused action (action, on
// resource id) and answers with msg.
func (d *Deps) refusal(ctx context.Context, u store.User, a store.Alliance, action, resource, id string) func(reason, msg string) error {
	return func(reason, msg string) error {
		d.audit(ctx, auditEntry{user: &u.ID, alliance: &a.ID, action: action, resource: resource, resourceID: id, failed: true,
			newValues: map[string]any{"reason": reason}})
		return bot.UserError(msg)
	}
}

// withdrawRefusal is refusal for a withdrawal; id 0 is one not yet
// recorded.
func (d *Deps) withdrawRefusal(ctx context.Context, u store.User, a store.Alliance, id int64) func(reason, msg string) error {
	rid := ""
	if id != 0 {
		rid = strconv.FormatInt(id, 10)
	}
	return d.refusal(ctx, u, a, "alliance.withdraw", "withdrawal", rid)
}

// ownKey is a manager's own alliance key, opened, with what marks it
// revoked when the game refuses it.
type ownKey struct {
	key     string
	manager store.AllianceManager
	owner   string // Discord id
}

// ownGameKey opens the caller's own alliance key when the game lets it do
// perm (the game records who acted: never a pooled key); otherwise refuse
// answers why.
func (d *Deps) ownGameKey(ctx context.Context, u store.User, a store.Alliance, perm string, refuse func(reason, msg string) error) (ownKey, error) {
	m, err := d.Store.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: a.ID})
	if err != nil {
		return ownKey{}, fmt.Errorf("manager: %w", err)
	}
	var perms map[string]bool
	_ = json.Unmarshal(m.KeyPermissions, &perms) // NULL without a key
	switch {
	case m.ManagerApiKey == nil:
		return ownKey{}, refuse("no own key", "This needs your own alliance key: link one with /alliance key. Nothing was done.")
	case m.KeyRevokedAt != nil:
		return ownKey{}, refuse("own key revoked", "The game refused your alliance key: link your current one with /alliance key. Nothing was done.")
	case !perms[perm]:
		return ownKey{}, refuse("own key lacks "+perm, fmt.Sprintf("Your alliance key may not do this in the game (it lacks %s): make a key with it "+
			"(Account, then API Key) and link it with /alliance key. Nothing was done.", perm))
	}
	key, err := d.Keys.Open(m.ManagerApiKey, u.KeySalt, secrets.AllianceKey(u.ID, a.ID))
	if err != nil {
		return ownKey{}, refuse("own key unreadable", "Your alliance key is stored but unreadable (it was encrypted with a master key the bot "+
			"no longer has): link it again with /alliance key. Nothing was done.")
	}
	return ownKey{key: key, manager: m, owner: u.DiscordID}, nil
}

// refused marks the key revoked, and tells its owner once, when err says
// the game refused it.
func (d *Deps) refused(ctx context.Context, a store.Alliance, k ownKey, err error) {
	if errors.Is(err, pnw.ErrInvalidKey) {
		d.revokeAllianceKey(context.WithoutCancel(ctx), a.ID, a.Name, k.manager, k.owner)
	}
}

// overdraft names what the bank holds less of than want, when the bank can
// be read; "" when it holds enough or cannot be read (the game refuses an
// overdraft anyway).
func (d *Deps) overdraft(ctx context.Context, a store.Alliance, want pnw.Amounts) string {
	var bank pnw.Result[pnw.AllianceBank]
	err := d.withAllianceKey(ctx, a, true, func(key string) error {
		var err error
		bank, err = d.Game.AllianceBank(ctx, key, int(a.PnwAllianceID))
		return err
	})
	if err != nil {
		d.Logger.InfoContext(ctx, "withdraw: bank not readable, left to the game", "error", err)
		return ""
	}
	var short []string
	for r, held := range bank.Data.Amounts() {
		if want[r] > held {
			var one pnw.Amounts
			one[r] = held
			short = append(short, cmp.Or(holdingsText(one, false), "no "+pnw.Resource(r).String()))
		}
	}
	if len(short) == 0 {
		return ""
	}
	return "it holds " + strings.Join(short, ", ")
}

// worth is the value of amounts in dollars: money plus resources at average
// trade prices.
func (d *Deps) worth(ctx context.Context, amounts pnw.Amounts) (float64, error) {
	value := amounts[pnw.Money]
	if value == amounts.Total() {
		return value, nil
	}
	p, err := d.Game.TradePrices(ctx)
	if err != nil {
		return 0, gameError(err, "The daily cap needs the market's prices. Nothing was withdrawn.")
	}
	prices := map[string]float64{}
	for _, r := range p.Data.Resources {
		prices[strings.ToLower(r.Resource)] = float64(r.AveragePrice)
	}
	for _, r := range pnw.Resources[1:] {
		// Counted at nothing, a resource without a price would pass any cap.
		price := prices[r.String()]
		if amounts[r] > 0 && !(price > 0) {
			return 0, bot.UserErrorf("The market has no average price for %s, which the daily cap needs. Nothing was withdrawn.", r)
		}
		value += amounts[r] * price
	}
	return value, nil
}

// withinCap reports whether the manager may withdraw value more in the last
// 24 hours under limit (withdrawalCap, read before any transaction: its
// read takes a connection of its own), and how much is left.
func (d *Deps) withinCap(ctx context.Context, q *store.Queries, userID int64, value, limit float64) (left float64, ok bool, err error) {
	spent, err := q.WithdrawalSpentSince(ctx, store.WithdrawalSpentSinceParams{RequestedBy: &userID, Since: d.Now().Add(-24 * time.Hour)})
	if err != nil {
		return 0, false, fmt.Errorf("withdrawn today: %w", err)
	}
	return max(limit-spent, 0), spent+value <= limit, nil
}

// withdrawalCap is the daily cap per manager. Until app_config has been
// read it is unknown, not the default: an administrator's lower cap must
// not give way to a failed read.
func (d *Deps) withdrawalCap(ctx context.Context) (float64, error) {
	if d.WithdrawalCap > 0 {
		return d.WithdrawalCap, nil
	}
	limit, err := d.Settings.Strict(ctx, settings.WithdrawalCap)
	return float64(limit), err
}

const capUnread = "pnwbot could not read its settings, so it cannot check your daily cap right now. Nothing was withdrawn: try again in a minute."

func capMessage(left float64) string {
	return fmt.Sprintf("That is above your daily cap: you may withdraw $%s more in value (money plus resources at average prices) "+
		"within 24 hours. Nothing was withdrawn.", amount(left))
}

func withdrawAudit(w store.Withdrawal, user *int64, from, to string, details map[string]any) auditEntry {
	e := auditEntry{user: user, alliance: &w.AllianceID, action: "alliance.withdraw_" + to, resource: "withdrawal",
		resourceID: strconv.FormatInt(w.ID, 10), newValues: map[string]any{"state": to}}
	if from != "" {
		e.oldValues = map[string]any{"state": from}
	}
	for k, v := range details {
		e.newValues.(map[string]any)[k] = v
	}
	return e
}

// withdrawalEmbed shows a withdrawal: recipient, amounts, note, state.
func withdrawalEmbed(w store.Withdrawal, a store.Alliance) *discordgo.MessageEmbed {
	var want pnw.Amounts
	_ = json.Unmarshal(w.Amounts, &want) // written by allianceWithdraw
	receiver := fmt.Sprintf("[%s](%s)", w.ReceiverName, nationURL(strconv.FormatInt(w.ReceiverID, 10)))
	e := &discordgo.MessageEmbed{Title: truncate(fmt.Sprintf("Withdrawal #%d from %s", w.ID, a.Name), 256), Color: colorDanger,
		Fields: []*discordgo.MessageEmbedField{
			{Name: "Recipient", Value: fieldValue(receiver)},
			{Name: "Amounts", Value: fieldValue(holdingsText(want, false))},
			{Name: "Worth", Value: "$" + amount(w.Value), Inline: true},
			{Name: "State", Value: w.State, Inline: true},
		}}
	if w.Note != "" {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Note", Value: fieldValue(w.Note)})
	}
	return e
}

// withdrawal loads the withdrawal a button names, in this server's
// alliance; only the manager who asked for it may press its buttons, and
// only while they may still manage the bank.
func (d *Deps) withdrawal(ctx context.Context, req *call) (store.User, store.Alliance, store.Withdrawal, error) {
	u, a := req.Account, req.Alliance
	id, err := strconv.ParseInt(req.Var("id"), 10, 64)
	if err != nil {
		return u, a, store.Withdrawal{}, d.withdrawRefusal(ctx, u, a, 0)("broken button", "This button is broken: run /alliance withdraw again.")
	}
	w, err := d.Store.WithdrawalGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && w.AllianceID != a.ID {
		// Only a forged button names one: audited.
		return u, a, w, d.withdrawRefusal(ctx, u, a, id)("not this alliance's withdrawal", "This withdrawal is not one of this server's alliance.")
	} else if err != nil {
		return u, a, w, fmt.Errorf("withdrawal: %w", err)
	}
	if w.RequestedBy == nil || *w.RequestedBy != u.ID {
		return u, a, w, d.withdrawRefusal(ctx, u, a, w.ID)("not the requester",
			"Only the manager who asked for this withdrawal can confirm or cancel it: it is sent with their own key.")
	}
	return u, a, w, nil
}

// withdrawConfirm sends a withdrawal, at most once: only the request that
// moves its row from pending to sending calls the game; every other click,
// retry or replica is told the row's state.
func (d *Deps) withdrawConfirm(ctx context.Context, req *call) (*bot.Response, error) {
	u, a, w, err := d.withdrawal(ctx, req)
	if err != nil {
		return nil, err
	}
	if w.State != withdrawPending {
		return d.withdrawState(ctx, u, a, w)
	}
	refuse := d.withdrawRefusal(ctx, u, a, w.ID)
	k, err := d.ownGameKey(ctx, u, a, "alliance_withdraw_bank", refuse)
	if err != nil {
		return nil, err
	}
	if !d.Game.CanMutate() {
		return nil, refuse("no bot key", "This pnwbot has no game bot key (PNW_BOT_KEY): ask its operator. Nothing was withdrawn.")
	}
	limit, err := d.withdrawalCap(ctx)
	if err != nil {
		return nil, refuse("cap unread", capUnread)
	}
	var left float64
	err = d.change(ctx, func(q *store.Queries) (auditEntry, error) {
		// One manager's confirmations in turn, so the cap holds.
		if err := q.WithdrawalLockRequester(ctx, u.ID); err != nil {
			return auditEntry{}, err
		}
		var ok bool
		if left, ok, err = d.withinCap(ctx, q, u.ID, w.Value, limit); err != nil {
			return auditEntry{}, err
		} else if !ok {
			return auditEntry{}, errOverCap
		}
		claimed, err := q.WithdrawalClaim(ctx, store.WithdrawalClaimParams{ID: w.ID, Now: d.Now()})
		if err == nil {
			w = claimed
		}
		return withdrawAudit(w, &u.ID, withdrawPending, withdrawSending, nil), err
	})
	switch {
	case errors.Is(err, errOverCap):
		return nil, refuse("daily cap", capMessage(left))
	case errors.Is(err, store.ErrNotFound): // another click got there first, or it expired
		if w, err = d.Store.WithdrawalGet(ctx, w.ID); err != nil {
			return nil, fmt.Errorf("withdrawal: %w", err)
		}
		return d.withdrawState(ctx, u, a, w)
	case err != nil:
		return nil, fmt.Errorf("claim withdrawal: %w", err)
	}

	var want pnw.Amounts
	if err := json.Unmarshal(w.Amounts, &want); err != nil {
		return nil, fmt.Errorf("withdrawal amounts: %w", err)
	}
	rec, sendErr := d.Game.BankWithdraw(ctx, k.key, pnw.Withdrawal{ReceiverID: int(w.ReceiverID), ReceiverType: int(w.ReceiverType),
		Amounts: want, Note: w.Note})
	state, details := mutationOutcome(rec, sendErr)
	if sendErr != nil {
		d.Logger.WarnContext(ctx, "withdrawal not sent", "withdrawal_id", w.ID, "state", state, "error", sendErr)
		d.refused(ctx, a, k, sendErr)
	}
	// What the game said is recorded even when the interaction is gone.
	return d.finishWithdrawal(context.WithoutCancel(ctx), u.ID, a, w, state, details)
}

var errOverCap = errors.New("over the daily withdrawal cap")

// mutationOutcome classifies the game's answer to a mutation (a withdrawal,
// a member action): sent; failed when the game
// certainly did not execute it (it refused the key, a permission, the
// request or the amounts, or rate-limited it; or the request never left:
// the breaker was open, no connection was made); unknown otherwise (a
// timeout, a dropped connection, a 5xx, an unreadable answer).
func mutationOutcome(rec *pnw.Bankrec, err error) (state string, details map[string]any) {
	var pe *pnw.Error
	switch {
	case err == nil:
		return withdrawSent, map[string]any{"bankrec_id": rec.Id}
	case errors.As(err, &pe) && pe.Executed: // it ran; only its answer is missing
		return withdrawUnknown, map[string]any{"error": err.Error()}
	case pnw.NotSent(err) && errors.Is(err, pnw.ErrGameDown):
		return withdrawFailed, map[string]any{"error": "the game could not be reached, so the request never left; " +
			"ask again in a few minutes", "cause": err.Error()}
	case errors.Is(err, pnw.ErrInvalidKey), errors.Is(err, pnw.ErrPermission), errors.Is(err, pnw.ErrInvalidQuery),
		errors.Is(err, pnw.ErrRateLimited), errors.Is(err, pnw.ErrNotFound):
		msg := "it refused the request"
		if errors.As(err, &pe) && pe.Message != "" {
			msg = pe.Message
		}
		return withdrawFailed, map[string]any{"error": "the game refused it: " + msg, "cause": err.Error()}
	case pnw.NotSent(err):
		return withdrawFailed, map[string]any{"error": "it was stopped before reaching the game", "cause": err.Error()}
	default:
		return withdrawUnknown, map[string]any{"error": err.Error()}
	}
}

// finishWithdrawal records the outcome of a claimed withdrawal with its
// audit row and answers the manager.
func (d *Deps) finishWithdrawal(ctx context.Context, userID int64, a store.Alliance, w store.Withdrawal, state string, details map[string]any) (*bot.Response, error) {
	var bankrec, errText *string
	if id, ok := details["bankrec_id"].(string); ok {
		bankrec = &id
	}
	if msg, ok := details["error"].(string); ok {
		errText = &msg
	}
	err := d.change(ctx, func(q *store.Queries) (auditEntry, error) {
		done, err := q.WithdrawalFinish(ctx, store.WithdrawalFinishParams{ID: w.ID, State: state, BankrecID: bankrec, Error: errText})
		if err == nil {
			w = done
		}
		return withdrawAudit(w, &userID, withdrawSending, state, details), err
	})
	if err != nil {
		// The row stays sending; the settle pass makes it unknown.
		d.Logger.ErrorContext(ctx, "record withdrawal outcome", "withdrawal_id", w.ID, "state", state, "error", err)
		w.State = withdrawUnknown
	}
	return withdrawalUpdate(w, a), nil
}

// withdrawState answers a click on a withdrawal that is no longer pending,
// or expired: nothing is sent again.
func (d *Deps) withdrawState(ctx context.Context, u store.User, a store.Alliance, w store.Withdrawal) (*bot.Response, error) {
	if w.State == withdrawPending && !w.ExpiresAt.After(d.Now()) || w.State == withdrawSending && w.UpdatedAt.Before(d.Now().Add(-withdrawStuckAfter)) {
		settled, err := d.settle(ctx, w)
		if errors.Is(err, store.ErrNotFound) {
			settled, err = d.Store.WithdrawalGet(ctx, w.ID)
		}
		if err != nil {
			return nil, fmt.Errorf("settle withdrawal: %w", err)
		}
		w = settled
	}
	d.audit(ctx, auditEntry{user: &u.ID, alliance: &a.ID, action: "alliance.withdraw", resource: "withdrawal", resourceID: strconv.FormatInt(w.ID, 10),
		failed: true, newValues: map[string]any{"reason": "not pending", "state": w.State}})
	return withdrawalUpdate(w, a), nil
}

// closeWithdrawal cancels or expires a pending withdrawal; a row that left
// pending meanwhile is returned as it is.
func (d *Deps) closeWithdrawal(ctx context.Context, userID int64, w store.Withdrawal, state string) (store.Withdrawal, error) {
	err := d.change(ctx, func(q *store.Queries) (auditEntry, error) {
		closed, err := q.WithdrawalClose(ctx, store.WithdrawalCloseParams{ID: w.ID, State: state})
		if err == nil {
			w = closed
		}
		return withdrawAudit(w, &userID, withdrawPending, state, nil), err
	})
	if errors.Is(err, store.ErrNotFound) {
		if w, err = d.Store.WithdrawalGet(ctx, w.ID); err != nil {
			return w, fmt.Errorf("withdrawal: %w", err)
		}
		return w, nil
	}
	return w, err
}

func (d *Deps) withdrawCancel(ctx context.Context, req *call) (*bot.Response, error) {
	u, a, w, err := d.withdrawal(ctx, req)
	if err != nil {
		return nil, err
	}
	if w.State == withdrawPending {
		if w, err = d.closeWithdrawal(ctx, u.ID, w, withdrawCancelled); err != nil {
			return nil, err
		}
		return withdrawalUpdate(w, a), nil
	}
	return d.withdrawState(ctx, u, a, w)
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
	case withdrawSent:
		rec := ""
		if w.BankrecID != nil {
			rec = " (bank record #" + *w.BankrecID + ")"
		}
		return "Sent" + rec + ". /alliance bank-history shows it."
	case withdrawSending:
		return "It is being sent right now, by an earlier click: it is sent once. Look again with /alliance bank-history in a minute."
	case withdrawFailed:
		return "Nothing was sent: " + reason + ". Fix that, then run /alliance withdraw again."
	case withdrawUnknown:
		return "**Unknown outcome**: the game did not answer clearly, so it may or may not have been sent. It will not be retried. " +
			"Check /alliance bank-history (or the bank in the game) before asking again."
	case withdrawCancelled:
		return "Cancelled: nothing was sent."
	case withdrawExpired:
		return "This confirmation expired: nothing was sent. Run /alliance withdraw again."
	}
	return "Waiting for confirmation."
}

// SettleWithdrawals finishes withdrawals left behind: one still sending long
// after any handler would have ended (its process stopped between confirm
// and answer) becomes unknown, never retried; a pending one past its expiry
// becomes expired. Each change is audited. Safe to run on every replica at
// any time; it returns how many rows it settled.
func (d *Deps) SettleWithdrawals(ctx context.Context) (int, error) {
	now := d.clock()
	settled := 0
	for {
		rows, err := d.Store.WithdrawalListStale(ctx, store.WithdrawalListStaleParams{SendingBefore: now.Add(-withdrawStuckAfter), Now: now, RowLimit: 100})
		if err != nil {
			return settled, fmt.Errorf("stale withdrawals: %w", err)
		}
		for _, w := range rows {
			switch _, err := d.settle(ctx, w); {
			case err == nil:
				settled++
			case !errors.Is(err, store.ErrNotFound): // not found: it moved meanwhile
				return settled, fmt.Errorf("settle withdrawal %d: %w", w.ID, err)
			}
		}
		if len(rows) < 100 {
			return settled, nil
		}
	}
}

// settle makes a stuck sending row unknown and an expired pending row
// expired, with its audit row; store.ErrNotFound when it moved meanwhile.
func (d *Deps) settle(ctx context.Context, w store.Withdrawal) (store.Withdrawal, error) {
	err := d.change(ctx, func(q *store.Queries) (auditEntry, error) {
		from, to := w.State, withdrawExpired
		var err error
		if from == withdrawSending {
			to = withdrawUnknown
			msg := "no answer recorded: the process sending it stopped"
			w, err = q.WithdrawalFinish(ctx, store.WithdrawalFinishParams{ID: w.ID, State: to, Error: &msg})
		} else {
			w, err = q.WithdrawalClose(ctx, store.WithdrawalCloseParams{ID: w.ID, State: to})
		}
		return withdrawAudit(w, w.RequestedBy, from, to, map[string]any{"by": "settle"}), err
	})
	return w, err
}

// clock is d.Now, or time.Now before All set it.
func (d *Deps) clock() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}
