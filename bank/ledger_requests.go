package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"pnwbot/audit"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/store"
)

// Request kinds (bank_requests.kind), each sent with the note tag that puts
// the record that comes back on its side of the ledger.
const (
	RequestWithdraw = "withdraw"
	RequestGrant    = "grant"
	RequestLoan     = "loan"
)

var requestTags = map[string]string{RequestWithdraw: TagDeposit, RequestGrant: TagGrant, RequestLoan: TagLoan}

// Request states (bank_requests.state).
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestDenied   = "denied"
)

// MaxReason is the longest reason a request gives, so that its note, with
// its tags, fits the game's.
const MaxReason = 60

// OverBalance refuses a withdraw request above the member's balance.
type OverBalance struct {
	Balance pnw.Amounts
}

func (e *OverBalance) Error() string {
	return "That is more than your balance in the bank, which holds " + cmpText(e.Balance) + " for you (/bank balance). Nothing was asked."
}

// cmpText is Text, or "nothing".
func cmpText(a pnw.Amounts) string {
	if a.IsZero() {
		return "nothing"
	}
	return Text(a, false)
}

// Decided answers a click on a request no longer pending.
type Decided struct{ Request store.BankRequest }

func (e *Decided) Error() string { return "This request was already " + e.Request.State + "." }

// Repeated answers a second attempt of the Discord interaction that
// already recorded an adjustment or a request (a replay the replay check
// missed): nothing more was written.
type Repeated struct{ Message string }

func (e *Repeated) Error() string { return e.Message }

// Member is who asks: their account, their nation in the alliance.
type Member struct {
	User       store.User
	Alliance   store.Alliance
	NationID   int64
	NationName string
}

// AskRequest records a member's request to the bankers: amounts checked
// as a withdrawal's, a reason, a due date for a loan (today or later); a
// withdraw request may not exceed the member's balance. Audited as
// bank.request. It returns the request for the caller to post in the bank
// channel, then to call Posted, or NotPosted when the post failed: the
// request is posted once. interactionID is the Discord interaction that
// asks: asked again (a replay), it records nothing more; it answers
// Repeated when the request is posted or being posted, and otherwise (the
// first run stopped before its post, or its post failed) returns the
// request to post, as to the first run.
func (b *Bank) AskRequest(ctx context.Context, m Member, interactionID string, kind string, a pnw.Amounts, reason string, due time.Time) (store.BankRequest, error) {
	if _, ok := requestTags[kind]; !ok {
		return store.BankRequest{}, &Invalid{"A request is a withdraw, a grant or a loan. Nothing was asked."}
	}
	if _, err := Check(a, ""); err != nil {
		return store.BankRequest{}, &Invalid{strings.Replace(err.Error(), "Nothing was withdrawn.", "Nothing was asked.", 1)}
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return store.BankRequest{}, &Invalid{"Say what it is for (reason). Nothing was asked."}
	case len([]rune(reason)) > MaxReason:
		return store.BankRequest{}, &Invalid{fmt.Sprintf("The reason is too long: at most %d characters. Nothing was asked.", MaxReason)}
	case !due.IsZero() && kind != RequestLoan:
		return store.BankRequest{}, &Invalid{"Only a loan has a due date. Nothing was asked."}
	case !due.IsZero() && due.Before(b.now().UTC().Truncate(24*time.Hour)):
		return store.BankRequest{}, &Invalid{"The due date is in the past. Nothing was asked."}
	}
	if kind == RequestWithdraw {
		if err := withinBalance(ctx, b.store.Queries, m.Alliance, m.NationID, a); err != nil {
			return store.BankRequest{}, err
		}
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return store.BankRequest{}, err
	}
	var dueDay *time.Time
	if !due.IsZero() {
		dueDay = &due
	}
	var r store.BankRequest
	recorded := errors.New("recorded before") // rolls back: nothing to write, nothing to audit
	err = b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		r, err = q.BankRequestCreate(ctx, store.BankRequestCreateParams{AllianceID: m.Alliance.ID, UserID: &m.User.ID, NationID: m.NationID,
			NationName: m.NationName, Kind: kind, Amounts: raw, Reason: reason, Due: dueDay, InteractionID: interactionID})
		if errors.Is(err, store.ErrNotFound) {
			if r, err = q.BankRequestGetByInteraction(ctx, interactionID); err != nil {
				return audit.Entry{}, err
			}
			return audit.Entry{}, recorded
		}
		if err != nil {
			return audit.Entry{}, err
		}
		return requestEntry(r, &m.User.ID, "", RequestPending, map[string]any{"kind": kind, "amounts": json.RawMessage(raw), "reason": reason}), nil
	})
	if err != nil && !errors.Is(err, recorded) {
		return r, fmt.Errorf("create request: %w", err)
	}
	// Claimed after the insert commits, so that a run that stops before its
	// post leaves the request to a replay; a run that stops while posting
	// leaves it claimed for a minute (BankRequestClaimPost).
	claimed, err := b.store.BankRequestClaimPost(ctx, r.ID)
	if errors.Is(err, store.ErrNotFound) {
		return r, &Repeated{fmt.Sprintf("Request #%d is already recorded: this was the same interaction again. Nothing more was asked.", r.ID)}
	} else if err != nil {
		return r, fmt.Errorf("claim request post: %w", err)
	}
	return claimed, nil
}

// Posted records where the caller of AskRequest posted the request.
func (b *Bank) Posted(ctx context.Context, id int64, channelID, messageID string) error {
	if err := b.store.BankRequestSetMessage(ctx, store.BankRequestSetMessageParams{ID: id, ChannelID: &channelID, MessageID: &messageID}); err != nil {
		return fmt.Errorf("request message: %w", err)
	}
	return nil
}

// NotPosted says the post of the caller of AskRequest failed: a replay of
// the request's interaction posts it.
func (b *Bank) NotPosted(ctx context.Context, id int64) error {
	if err := b.store.BankRequestUnclaimPost(ctx, id); err != nil {
		return fmt.Errorf("request not posted: %w", err)
	}
	return nil
}

// withinBalance refuses amounts above what the nation may still withdraw:
// its balance less its approved withdraw requests the ledger has not seen
// come back yet.
func withinBalance(ctx context.Context, q *store.Queries, a store.Alliance, nationID int64, want pnw.Amounts) error {
	acc, err := accountWith(ctx, q, a, nationID)
	if err != nil {
		return err
	}
	left := acc.Balance
	inFlight, err := q.BankRequestInFlight(ctx, store.BankRequestInFlightParams{AllianceID: a.ID, NationID: nationID})
	if err != nil {
		return fmt.Errorf("requests on their way: %w", err)
	}
	for _, raw := range inFlight {
		var sent pnw.Amounts
		if err := json.Unmarshal(raw, &sent); err != nil {
			return fmt.Errorf("request amounts: %w", err)
		}
		left = left.Sub(sent)
	}
	for r, v := range want {
		if v > left[r] {
			return &OverBalance{Balance: left}
		}
	}
	return nil
}

// Note is the note a request is sent with: its tag (and due date), then
// its number and reason.
func Note(r store.BankRequest) string {
	note := requestTags[r.Kind]
	if r.Due != nil {
		note += " #due=" + r.Due.Format(time.DateOnly)
	}
	return fmt.Sprintf("%s request %d: %s", note, r.ID, r.Reason)
}

// Approve sends a pending request with the banker's own key through the
// withdrawal state machine (Ask, then Confirm: the cap, the bot key, at
// most once), with its note tag. Only the approval that moves the request
// from pending sends anything: a second click, a retry, another banker
// gets a *Decided. A withdraw request is checked against the member's
// balance again first. When nothing was sent (refused, or failed) the
// request is pending again.
func (b *Bank) Approve(ctx context.Context, m keys.Actor, id int64) (store.BankRequest, store.Withdrawal, error) {
	r, err := b.request(ctx, m, id)
	if err != nil {
		return r, store.Withdrawal{}, err
	}
	var want pnw.Amounts
	if err := json.Unmarshal(r.Amounts, &want); err != nil {
		return r, store.Withdrawal{}, fmt.Errorf("request amounts: %w", err)
	}
	var over *OverBalance
	err = b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		if r.Kind == RequestWithdraw {
			// One withdraw approval at a time in the alliance, so that two
			// never both pass on the same balance.
			if _, err := q.AllianceLock(ctx, m.Alliance.ID); err != nil {
				return audit.Entry{}, err
			}
			if err := withinBalance(ctx, q, m.Alliance, r.NationID, want); err != nil {
				return audit.Entry{}, err
			}
		}
		decided, err := q.BankRequestDecide(ctx, store.BankRequestDecideParams{ID: r.ID, State: RequestApproved, DecidedBy: &m.User.ID})
		if err == nil {
			r = decided
		}
		return requestEntry(r, &m.User.ID, RequestPending, RequestApproved, nil), err
	})
	switch {
	case errors.As(err, &over):
		return r, store.Withdrawal{}, b.refuseRequest(ctx, m, r.ID, "above the member's balance",
			"That is more than the member may still withdraw ("+cmpText(over.Balance)+"): deny it, or correct the balance with /bank adjust. Nothing was sent.")
	case errors.Is(err, store.ErrNotFound):
		return b.decided(ctx, r.ID)
	case err != nil:
		return r, store.Withdrawal{}, fmt.Errorf("approve request: %w", err)
	}
	w, err := b.Ask(ctx, m, int(r.NationID), want, Note(r))
	if err != nil {
		return b.reopen(ctx, m, r), w, err
	}
	if r, err = b.store.BankRequestSetWithdrawal(ctx, store.BankRequestSetWithdrawalParams{ID: r.ID, WithdrawalID: &w.ID}); err != nil {
		return r, w, fmt.Errorf("request withdrawal: %w", err)
	}
	w, err = b.Confirm(ctx, m, strconv.FormatInt(w.ID, 10))
	if err != nil || w.State == Failed {
		return b.reopen(ctx, m, r), w, err
	}
	return r, w, nil
}

// Deny closes a pending request; a *Decided when it was no longer pending.
func (b *Bank) Deny(ctx context.Context, m keys.Actor, id int64) (store.BankRequest, error) {
	r, err := b.request(ctx, m, id)
	if err != nil {
		return r, err
	}
	err = b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		decided, err := q.BankRequestDecide(ctx, store.BankRequestDecideParams{ID: r.ID, State: RequestDenied, DecidedBy: &m.User.ID})
		if err == nil {
			r = decided
		}
		return requestEntry(r, &m.User.ID, RequestPending, RequestDenied, nil), err
	})
	if errors.Is(err, store.ErrNotFound) {
		r, _, err = b.decided(ctx, r.ID)
		return r, err
	}
	return r, err
}

// request loads a request of the manager's alliance that is pending.
func (b *Bank) request(ctx context.Context, m keys.Actor, id int64) (store.BankRequest, error) {
	r, err := b.store.BankRequestGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && r.AllianceID != m.Alliance.ID {
		return r, b.refuseRequest(ctx, m, id, "not this alliance's request", "This request is not one of this server's alliance.")
	} else if err != nil {
		return r, fmt.Errorf("request: %w", err)
	}
	if r.State != RequestPending {
		return r, &Decided{r}
	}
	return r, nil
}

func (b *Bank) decided(ctx context.Context, id int64) (store.BankRequest, store.Withdrawal, error) {
	r, err := b.store.BankRequestGet(ctx, id)
	if err != nil {
		return r, store.Withdrawal{}, fmt.Errorf("request: %w", err)
	}
	return r, store.Withdrawal{}, &Decided{r}
}

// reopen gives back to the bankers a request whose approval sent nothing.
func (b *Bank) reopen(ctx context.Context, m keys.Actor, r store.BankRequest) store.BankRequest {
	err := b.audit.Change(context.WithoutCancel(ctx), func(q *store.Queries) (audit.Entry, error) {
		open, err := q.BankRequestReopen(ctx, r.ID)
		if err == nil {
			r = open
		}
		return requestEntry(r, &m.User.ID, RequestApproved, RequestPending, map[string]any{"why": "nothing was sent"}), err
	})
	if err != nil {
		b.logger.ErrorContext(ctx, "reopen request", "request_id", r.ID, "error", err)
	}
	return r
}

// refuseRequest audits a refused approval or denial and returns the
// *Refused.
func (b *Bank) refuseRequest(ctx context.Context, m keys.Actor, id int64, reason, msg string) error {
	b.audit.Record(ctx, audit.Entry{User: &m.User.ID, Alliance: &m.Alliance.ID, Action: "bank.request", Resource: "bank_request",
		ResourceID: strconv.FormatInt(id, 10), Failed: true, New: map[string]any{"reason": reason}})
	return &Refused{reason, msg}
}

func requestEntry(r store.BankRequest, user *int64, from, to string, details map[string]any) audit.Entry {
	values := map[string]any{"state": to, "nation_id": r.NationID}
	for k, v := range details {
		values[k] = v
	}
	e := audit.Entry{User: user, Alliance: &r.AllianceID, Action: "bank.request_" + to, Resource: "bank_request",
		ResourceID: strconv.FormatInt(r.ID, 10), New: values}
	if from != "" {
		e.Old = map[string]any{"state": from}
	}
	return e
}
