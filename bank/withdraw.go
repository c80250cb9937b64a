package bank

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

	"pnwbot/audit"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/store"
)

// Withdrawal states (withdrawals.state): pending -> sending -> sent,
// failed or unknown; pending -> cancelled or expired. Only the request
// that moves a row from pending to sending calls the game.
const (
	Pending   = "pending"
	Sending   = "sending"
	Sent      = "sent"
	Failed    = "failed"
	Unknown   = "unknown"
	Cancelled = "cancelled"
	Expired   = "expired"
)

const (
	// ConfirmTTL is how long a pending withdrawal may be confirmed.
	ConfirmTTL = 5 * time.Minute
	// stuckAfter is when a row still sending has outlived any handler
	// (they get a minute): its process stopped, and it is unknown.
	stuckAfter = 5 * time.Minute
	// MaxNote is the longest note, in characters.
	MaxNote = 100
	// MaxAmount bounds each amount: more than any bank holds, and small
	// enough that float64 keeps every cent of it exact.
	MaxAmount = 1e13
	// withdrawPerm is the game's key permission a withdrawal needs.
	withdrawPerm = "alliance_withdraw_bank"
)

// Invalid is a request that cannot be done as asked; nothing was recorded.
type Invalid struct{ Message string }

func (e *Invalid) Error() string { return e.Message }

// Refused is a refused withdrawal, recorded in the audit log; Reason is
// what the log says, Message what the manager is told.
type Refused struct{ Reason, Message string }

func (e *Refused) Error() string { return e.Message }

// Check validates what a manager asks to withdraw: every amount finite,
// not negative, at most MaxAmount and in cents (the game keeps two
// decimals), at least one above zero, and a note of at most MaxNote
// characters. It returns the note trimmed.
func Check(a pnw.Amounts, note string) (string, error) {
	for _, r := range pnw.Resources {
		v := a[r]
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return "", &Invalid{fmt.Sprintf("The amount of %s is not a number. Nothing was withdrawn.", r)}
		case v < 0:
			return "", &Invalid{fmt.Sprintf("The amount of %s is negative: amounts are what leaves the bank, 0 or more. Nothing was withdrawn.", r)}
		case v > MaxAmount:
			return "", &Invalid{fmt.Sprintf("The amount of %s is too large: at most %s. Nothing was withdrawn.", r, Format(MaxAmount))}
		case math.Round(v*100)/100 != v:
			return "", &Invalid{fmt.Sprintf("The amount of %s has more than two decimals, which the game does not keep. Nothing was withdrawn.", r)}
		}
	}
	if a.IsZero() {
		return "", &Invalid{"Give at least one amount above zero (money, food, steel...). Nothing was withdrawn."}
	}
	note = strings.TrimSpace(note)
	if len([]rune(note)) > MaxNote {
		return "", &Invalid{fmt.Sprintf("The note is too long: at most %d characters. Nothing was withdrawn.", MaxNote)}
	}
	return note, nil
}

// refuse audits a refused withdrawal (id 0: not yet recorded) and returns
// the *Refused.
func (b *Bank) refuse(ctx context.Context, m keys.Actor, id int64, reason, msg string) error {
	rid := ""
	if id != 0 {
		rid = strconv.FormatInt(id, 10)
	}
	b.audit.Record(ctx, audit.Entry{User: &m.User.ID, Alliance: &m.Alliance.ID, Action: "alliance.withdraw", Resource: "withdrawal",
		ResourceID: rid, Failed: true, New: map[string]any{"reason": reason}})
	return &Refused{reason, msg}
}

// ownKey opens the manager's own alliance key, which a withdrawal is sent
// with (the game records who acted), once the game says its nation is
// still a member of the alliance and it may withdraw (keys.OwnKey), or
// refuses. A game that does not answer is its error: nothing is sent.
func (b *Bank) ownKey(ctx context.Context, m keys.Actor, id int64) (keys.Own, error) {
	own, err := b.keys.OwnKey(ctx, m, withdrawPerm)
	var refused *keys.OwnRefused
	if errors.As(err, &refused) {
		return own, b.refuse(ctx, m, id, refused.Reason, refused.Message)
	}
	return own, err
}

// Ask records a pending withdrawal of a to the nation receiverID, after
// checking what can be checked before it is confirmed: a (Check), the
// manager's own key, the bot key, what the bank holds, the value and the
// daily cap. Nothing moves until Confirm. Refusals are *Refused, bad
// requests *Invalid; a failed game read is returned as the game's error.
func (b *Bank) Ask(ctx context.Context, m keys.Actor, receiverID int, a pnw.Amounts, note string) (store.Withdrawal, error) {
	note, err := Check(a, note)
	if err != nil {
		return store.Withdrawal{}, err
	}
	if _, err := b.ownKey(ctx, m, 0); err != nil {
		return store.Withdrawal{}, err
	}
	if !b.game.CanMutate() {
		return store.Withdrawal{}, b.refuse(ctx, m, 0, "no bot key",
			"This pnwbot has no game bot key (PNW_BOT_KEY), without which the game refuses withdrawals: ask its operator. Nothing was withdrawn.")
	}
	receiver, err := b.game.Nation(ctx, receiverID)
	if errors.Is(err, pnw.ErrNotFound) {
		return store.Withdrawal{}, &Invalid{fmt.Sprintf("The game has no nation with id %d. Nothing was withdrawn.", receiverID)}
	} else if err != nil {
		return store.Withdrawal{}, err
	}
	if short := b.overdraft(ctx, m.Alliance, a); short != "" {
		return store.Withdrawal{}, b.refuse(ctx, m, 0, "above the bank", fmt.Sprintf("The bank holds less than that: %s. Nothing was withdrawn.", short))
	}
	value, err := b.worth(ctx, a)
	if err != nil {
		return store.Withdrawal{}, err
	}
	caps, err := b.Cap(ctx)
	if err != nil {
		return store.Withdrawal{}, b.refuse(ctx, m, 0, "cap unread", capUnread)
	}
	if over, err := b.withinCap(ctx, b.store.Queries, m, value, caps); err != nil {
		return store.Withdrawal{}, err
	} else if over != "" {
		return store.Withdrawal{}, b.refuse(ctx, m, 0, "daily cap", over)
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return store.Withdrawal{}, err
	}
	var w store.Withdrawal
	err = b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		w, err = q.WithdrawalCreate(ctx, store.WithdrawalCreateParams{AllianceID: m.Alliance.ID, RequestedBy: &m.User.ID, RequesterDiscordID: m.User.DiscordID, ReceiverType: pnw.ReceiverNation,
			ReceiverID: int64(receiverID), ReceiverName: receiver.Data.NationName, Amounts: raw, Value: value, Note: note, ExpiresAt: b.now().Add(ConfirmTTL)})
		return entry(w, &m.User.ID, "", Pending, map[string]any{"receiver_id": receiverID, "receiver_name": w.ReceiverName,
			"amounts": json.RawMessage(raw), "value": value, "note": note}), err
	})
	if err != nil {
		return w, fmt.Errorf("create withdrawal: %w", err)
	}
	return w, nil
}

// overdraft names what the bank holds less of than want, when the bank can
// be read; "" when it holds enough or cannot be read (the game refuses an
// overdraft anyway).
func (b *Bank) overdraft(ctx context.Context, a store.Alliance, want pnw.Amounts) string {
	bank, err := b.Holdings(ctx, a)
	if err != nil {
		b.logger.InfoContext(ctx, "withdraw: bank not readable, left to the game", "error", err)
		return ""
	}
	var short []string
	for r, held := range bank.Data.Amounts() {
		if want[r] > held {
			var one pnw.Amounts
			one[r] = held
			short = append(short, cmp.Or(Text(one, false), "no "+pnw.Resource(r).String()))
		}
	}
	if len(short) == 0 {
		return ""
	}
	return "it holds " + strings.Join(short, ", ")
}

// worth is the value of a in dollars: money plus resources at average
// trade prices. A resource without a price would pass any cap counted at
// nothing, so it is an *Invalid.
func (b *Bank) worth(ctx context.Context, a pnw.Amounts) (float64, error) {
	if a[pnw.Money] == a.Total() {
		return a[pnw.Money], nil
	}
	prices, err := b.Prices(ctx)
	if err != nil {
		return 0, fmt.Errorf("the daily cap needs the market's prices: %w", err)
	}
	value, unpriced := prices.Worth(a)
	if len(unpriced) > 0 {
		return 0, &Invalid{fmt.Sprintf("The market has no average price for %s, which the daily cap needs. Nothing was withdrawn.", unpriced[0])}
	}
	return value, nil
}

const capUnread = "pnwbot could not read its settings, so it cannot check your daily cap right now. Nothing was withdrawn: try again in a minute."

func capMessage(whose string, left float64) string {
	return fmt.Sprintf("That is above "+whose+" daily cap: you may withdraw $%s more in value (money plus resources at average prices) "+
		"within 24 hours. Nothing was withdrawn.", Format(left))
}

// entry is the audit entry of a withdrawal moving from one state to
// another ("" for a new one).
func entry(w store.Withdrawal, user *int64, from, to string, details map[string]any) audit.Entry {
	e := audit.Entry{User: user, Alliance: &w.AllianceID, Action: "alliance.withdraw_" + to, Resource: "withdrawal",
		ResourceID: strconv.FormatInt(w.ID, 10)}
	values := map[string]any{"state": to}
	for k, v := range details {
		values[k] = v
	}
	e.New = values
	if from != "" {
		e.Old = map[string]any{"state": from}
	}
	return e
}

// mine loads the withdrawal a request names (id as it came, from a button)
// for the manager: it must be of their alliance and asked by them.
func (b *Bank) mine(ctx context.Context, m keys.Actor, id string) (store.Withdrawal, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return store.Withdrawal{}, b.refuse(ctx, m, 0, "broken button", "This button is broken: run /alliance withdraw again.")
	}
	w, err := b.store.WithdrawalGet(ctx, n)
	if errors.Is(err, store.ErrNotFound) || err == nil && w.AllianceID != m.Alliance.ID {
		// Only a forged button names one: audited.
		return w, b.refuse(ctx, m, n, "not this alliance's withdrawal", "This withdrawal is not one of this server's alliance.")
	} else if err != nil {
		return w, fmt.Errorf("withdrawal: %w", err)
	}
	if w.RequestedBy == nil || *w.RequestedBy != m.User.ID {
		return w, b.refuse(ctx, m, w.ID, "not the requester",
			"Only the manager who asked for this withdrawal can confirm or cancel it: it is sent with their own key.")
	}
	return w, nil
}

var errOverCap = errors.New("over the daily withdrawal cap")

// Confirm sends the manager's pending withdrawal id, at most once: only the
// request that moves its row from pending to sending calls the game; every
// other click, retry or replica gets the row as it is. It returns the
// withdrawal as it ended: sent, failed (the game certainly did not execute
// it) or unknown (it may have), or its state when it was no longer
// pending.
func (b *Bank) Confirm(ctx context.Context, m keys.Actor, id string) (store.Withdrawal, error) {
	w, err := b.mine(ctx, m, id)
	if err != nil {
		return w, err
	}
	if w.State != Pending {
		return b.notPending(ctx, m, w)
	}
	own, err := b.ownKey(ctx, m, w.ID)
	if err != nil {
		return w, err
	}
	if !b.game.CanMutate() {
		return w, b.refuse(ctx, m, w.ID, "no bot key", "This pnwbot has no game bot key (PNW_BOT_KEY): ask its operator. Nothing was withdrawn.")
	}
	caps, err := b.Cap(ctx)
	if err != nil {
		return w, b.refuse(ctx, m, w.ID, "cap unread", capUnread)
	}
	var over string
	err = b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		// The alliance's confirmations in turn, and one manager's, so both
		// caps hold.
		if err := q.WithdrawalLockAlliance(ctx, m.Alliance.ID); err != nil {
			return audit.Entry{}, err
		}
		if err := q.WithdrawalLockRequester(ctx, m.User.ID); err != nil {
			return audit.Entry{}, err
		}
		if over, err = b.withinCap(ctx, q, m, w.Value, caps); err != nil {
			return audit.Entry{}, err
		} else if over != "" {
			return audit.Entry{}, errOverCap
		}
		claimed, err := q.WithdrawalClaim(ctx, store.WithdrawalClaimParams{ID: w.ID, Now: b.now()})
		if err == nil {
			w = claimed
		}
		return entry(w, &m.User.ID, Pending, Sending, nil), err
	})
	switch {
	case errors.Is(err, errOverCap):
		return w, b.refuse(ctx, m, w.ID, "daily cap", over)
	case errors.Is(err, store.ErrNotFound): // another click got there first, or it expired
		if w, err = b.store.WithdrawalGet(ctx, w.ID); err != nil {
			return w, fmt.Errorf("withdrawal: %w", err)
		}
		return b.notPending(ctx, m, w)
	case err != nil:
		return w, fmt.Errorf("claim withdrawal: %w", err)
	}

	var want pnw.Amounts
	if err := json.Unmarshal(w.Amounts, &want); err != nil {
		return w, fmt.Errorf("withdrawal amounts: %w", err)
	}
	rec, sendErr := b.game.BankWithdraw(ctx, own.Key, pnw.Withdrawal{ReceiverID: int(w.ReceiverID), ReceiverType: int(w.ReceiverType), Amounts: want, Note: w.Note})
	state, details := Outcome(rec, sendErr)
	if sendErr != nil {
		b.logger.WarnContext(ctx, "withdrawal not sent", "withdrawal_id", w.ID, "state", state, "error", sendErr)
		b.keys.Refused(ctx, m.Alliance, own, sendErr)
	}
	// What the game said is recorded even when the request is gone.
	return b.finish(context.WithoutCancel(ctx), m.User.ID, w, state, details), nil
}

// Outcome classifies the game's answer to a withdrawal: Sent; Failed only
// when the game certainly did not run it
// (pnw.NotExecuted: the request never left, or the game refused it before
// running it); Unknown otherwise (a timeout, a dropped connection, a 5xx,
// an unreadable answer, an error in words the game is not known to refuse
// with).
func Outcome(rec *pnw.Bankrec, err error) (state string, details map[string]any) {
	var pe *pnw.Error
	switch {
	case err == nil:
		return Sent, map[string]any{"bankrec_id": rec.Id}
	case !pnw.NotExecuted(err):
		return Unknown, map[string]any{"error": err.Error()}
	case pnw.NotSent(err) && errors.Is(err, pnw.ErrGameDown):
		return Failed, map[string]any{"error": "the game could not be reached, so the request never left; " +
			"ask again in a few minutes", "cause": err.Error()}
	case pnw.NotSent(err):
		return Failed, map[string]any{"error": "it was stopped before reaching the game", "cause": err.Error()}
	default:
		msg := "it refused the request"
		if errors.As(err, &pe) && pe.Message != "" {
			msg = pe.Message
		}
		return Failed, map[string]any{"error": "the game refused it: " + msg, "cause": err.Error()}
	}
}

// finish records the outcome of a claimed withdrawal with its audit row.
// A failure to record it leaves the row sending (the settle pass makes it
// unknown) and returns it as unknown.
func (b *Bank) finish(ctx context.Context, userID int64, w store.Withdrawal, state string, details map[string]any) store.Withdrawal {
	var bankrec, errText *string
	if id, ok := details["bankrec_id"].(string); ok {
		bankrec = &id
	}
	if msg, ok := details["error"].(string); ok {
		errText = &msg
	}
	err := b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		done, err := q.WithdrawalFinish(ctx, store.WithdrawalFinishParams{ID: w.ID, State: state, BankrecID: bankrec, Error: errText})
		if err == nil {
			w = done
		}
		return entry(w, &userID, Sending, state, details), err
	})
	if err != nil {
		b.logger.ErrorContext(ctx, "record withdrawal outcome", "withdrawal_id", w.ID, "state", state, "error", err)
		w.State = Unknown
	}
	return w
}

// notPending answers a click on a withdrawal that is no longer pending, or
// expired: nothing is sent again. An expired or stuck row is settled
// first; the click is audited as refused.
func (b *Bank) notPending(ctx context.Context, m keys.Actor, w store.Withdrawal) (store.Withdrawal, error) {
	if w.State == Pending && !w.ExpiresAt.After(b.now()) || w.State == Sending && w.UpdatedAt.Before(b.now().Add(-stuckAfter)) {
		settled, err := b.settle(ctx, w)
		if errors.Is(err, store.ErrNotFound) {
			settled, err = b.store.WithdrawalGet(ctx, w.ID)
		}
		if err != nil {
			return w, fmt.Errorf("settle withdrawal: %w", err)
		}
		w = settled
	}
	b.audit.Record(ctx, audit.Entry{User: &m.User.ID, Alliance: &m.Alliance.ID, Action: "alliance.withdraw", Resource: "withdrawal",
		ResourceID: strconv.FormatInt(w.ID, 10), Failed: true, New: map[string]any{"reason": "not pending", "state": w.State}})
	return w, nil
}

// Cancel cancels the manager's pending withdrawal id; one no longer
// pending is returned as it is.
func (b *Bank) Cancel(ctx context.Context, m keys.Actor, id string) (store.Withdrawal, error) {
	w, err := b.mine(ctx, m, id)
	if err != nil {
		return w, err
	}
	if w.State != Pending {
		return b.notPending(ctx, m, w)
	}
	err = b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		closed, err := q.WithdrawalClose(ctx, store.WithdrawalCloseParams{ID: w.ID, State: Cancelled})
		if err == nil {
			w = closed
		}
		return entry(w, &m.User.ID, Pending, Cancelled, nil), err
	})
	if errors.Is(err, store.ErrNotFound) { // it left pending meanwhile
		if w, err = b.store.WithdrawalGet(ctx, w.ID); err != nil {
			return w, fmt.Errorf("withdrawal: %w", err)
		}
		return w, nil
	}
	return w, err
}

// Settle finishes withdrawals left behind: one still sending long after
// any handler would have ended (its process stopped between confirm and
// answer) becomes unknown, never retried; a pending one past its expiry
// becomes expired. Each change is audited. Safe to run on every replica at
// any time; it returns how many rows it settled.
func (b *Bank) Settle(ctx context.Context) (int, error) {
	now := b.now()
	settled := 0
	for {
		rows, err := b.store.WithdrawalListStale(ctx, store.WithdrawalListStaleParams{SendingBefore: now.Add(-stuckAfter), Now: now, RowLimit: 100})
		if err != nil {
			return settled, fmt.Errorf("stale withdrawals: %w", err)
		}
		for _, w := range rows {
			switch _, err := b.settle(ctx, w); {
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
func (b *Bank) settle(ctx context.Context, w store.Withdrawal) (store.Withdrawal, error) {
	err := b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		from, to := w.State, Expired
		var err error
		if from == Sending {
			to = Unknown
			msg := "no answer recorded: the process sending it stopped"
			w, err = q.WithdrawalFinish(ctx, store.WithdrawalFinishParams{ID: w.ID, State: to, Error: &msg})
		} else {
			w, err = q.WithdrawalClose(ctx, store.WithdrawalCloseParams{ID: w.ID, State: to})
		}
		return entry(w, w.RequestedBy, from, to, map[string]any{"by": "settle"}), err
	})
	return w, err
}
