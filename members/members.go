// Package members holds the rules of a manager's actions on the alliance's
// members in the game (/alliance member: accept, remove, position, tax
// bracket): which nation each may act on, with whose key, and what a
// confirmation sends, at most once, audited.
package members

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"pnwbot/audit"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/store"
)

// Action is one of the member actions.
type Action string

const (
	Accept     Action = "accept"      // an applicant becomes a member
	Remove     Action = "remove"      // a member or applicant leaves
	Position   Action = "position"    // a member gets a default position
	TaxBracket Action = "tax-bracket" // a member moves to a tax bracket
)

// perms is what the manager's own key needs in the game for each action.
var perms = map[Action]string{
	Accept:     "alliance_accept_applicants",
	Remove:     "alliance_remove_members",
	Position:   "alliance_change_permissions",
	TaxBracket: "alliance_tax_brackets",
}

// The refusals. Check audits ErrNoBotKey and Confirm its ErrLeader and
// ErrApplicant; Ask's refusals of a target are not audited.
var (
	ErrNoBotKey     = errors.New("members: the bot has no game bot key")
	ErrNotListed    = errors.New("members: neither a member nor an applicant")
	ErrNotApplicant = errors.New("members: accepting a nation that is not an applicant")
	ErrApplicant    = errors.New("members: an applicant (accept it first)")
	ErrLeader       = errors.New("members: the alliance's leader")
)

// Options are what New needs.
type Options struct {
	Store  *store.Store
	Game   *pnw.Client
	Keys   *keys.Keys
	Logger *slog.Logger
}

// Members does the member actions.
type Members struct {
	game  *pnw.Client
	keys  *keys.Keys
	audit audit.Log
}

// New builds Members.
func New(o Options) *Members {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Members{game: o.Game, keys: o.Keys, audit: audit.Log{Store: o.Store, Logger: o.Logger}}
}

// refuse audits a refused member action on nation (0 before one is
// named).
func (s *Members) refuse(ctx context.Context, m keys.Actor, nation int, reason string) {
	id := ""
	if nation != 0 {
		id = strconv.Itoa(nation)
	}
	s.audit.Record(ctx, audit.Entry{User: &m.User.ID, Alliance: &m.Alliance.ID, Action: "alliance.member", Resource: "nation", ResourceID: id,
		Failed: true, New: map[string]any{"reason": reason}})
}

// ownKey opens the manager's own alliance key when the game lets it do
// action for the alliance now (keys.OwnKey); a refusal is audited and
// returned as the *keys.OwnRefused. A game that does not answer is its
// error.
func (s *Members) ownKey(ctx context.Context, m keys.Actor, action Action, nation int) (keys.Own, error) {
	own, err := s.keys.OwnKey(ctx, m, perms[action])
	var refused *keys.OwnRefused
	if errors.As(err, &refused) {
		s.refuse(ctx, m, nation, refused.Reason)
	}
	return own, err
}

// Check says whether m may do action at all now: their own key may
// (*keys.OwnRefused) and the bot has a game bot key, without which the
// game refuses every mutation (ErrNoBotKey). Refusals are audited. It
// comes before the nation is even looked up.
func (s *Members) Check(ctx context.Context, m keys.Actor, action Action) error {
	if _, err := s.ownKey(ctx, m, action, 0); err != nil {
		return err
	}
	if !s.game.CanMutate() {
		s.refuse(ctx, m, 0, "no bot key")
		return ErrNoBotKey
	}
	return nil
}

// Ask finds nation among the alliance's members and applicants (the cached
// member list) and says whether action may be asked on it: accept only an
// applicant, position and tax bracket only a member, and never the leader.
// It returns the nation as the list has it, also with a refusal once
// found. Nothing is sent: Confirm checks everything again.
func (s *Members) Ask(ctx context.Context, m keys.Actor, action Action, nation int) (pnw.Nation, error) {
	list, err := s.game.AllianceMembers(ctx, int(m.Alliance.PnwAllianceID))
	if err != nil {
		return pnw.Nation{}, err
	}
	var target *pnw.Nation
	for i := range list.Data {
		if list.Data[i].Id == strconv.Itoa(nation) {
			target = &list.Data[i]
		}
	}
	if target == nil {
		return pnw.Nation{}, ErrNotListed
	}
	applicant := !target.AlliancePosition.IsMember()
	switch {
	case action == Accept && !applicant:
		return *target, ErrNotApplicant
	case action != Accept && action != Remove && applicant:
		return *target, ErrApplicant
	case target.AlliancePosition == pnw.AlliancePositionEnumLEADER:
		return *target, ErrLeader
	}
	return *target, nil
}

// Unconfirmed audits a confirmation of an action on nation that the front
// door found expired or not m's: nothing is done.
func (s *Members) Unconfirmed(ctx context.Context, m keys.Actor, nation int) {
	s.refuse(ctx, m, nation, "expired or not theirs")
}

// State is how a confirmed action ended.
type State int

const (
	// Done: the game did it.
	Done State = iota
	// AlreadyDone: the nation already was so (removed: out of the
	// alliance); nothing was sent again.
	AlreadyDone
	// NotInAlliance: the nation left the alliance; nothing was sent.
	NotInAlliance
	// Failed: the game certainly did not do it (pnw.NotExecuted).
	Failed
	// Unknown: the game's answer does not say whether it did it.
	Unknown
)

// Outcome is what Confirm did.
type Outcome struct {
	State State
	// Old is the nation's position before, or for a tax bracket its
	// bracket's id ("" or "0": none).
	Old string
	// BracketName is the name of the tax bracket it moved to (Done).
	BracketName string
	// Err is the game's answer when Failed or Unknown.
	Err error
}

// Confirm does action on nation in the game with m's own key. value is
// what it is made: its position (MEMBER for accept, REMOVE for remove) or
// the tax bracket's id. Everything is checked again on the nation's
// standing read fresh: one already so, a second click say, is not sent
// again; the leader and a nation that applied again are refused
// (ErrLeader, ErrApplicant, audited). What is sent is audited as
// alliance.member_<action> with the old and new values, and the game's
// error when it failed; a key the game refused is revoked (keys.Refused).
func (s *Members) Confirm(ctx context.Context, m keys.Actor, action Action, nation int, value string) (Outcome, error) {
	k, err := s.ownKey(ctx, m, action, nation)
	if err != nil {
		return Outcome{}, err
	}
	a := m.Alliance
	before, err := s.game.NationStanding(ctx, k.Key, nation)
	if err != nil {
		s.keys.Refused(ctx, a, k, err)
		return Outcome{}, err
	}
	o := Outcome{Old: string(before.Position)}
	if action == TaxBracket {
		o.Old = before.TaxID
	}
	switch {
	case before.AllianceID != strconv.FormatInt(a.PnwAllianceID, 10):
		o.State = NotInAlliance
		if action == Remove {
			o.State = AlreadyDone
		}
		return o, nil
	case action == Accept && before.Position.IsMember():
		// Accepted meanwhile, and perhaps promoted since: sending MEMBER
		// again would demote them.
		o.State = AlreadyDone
		return o, nil
	case before.Position == pnw.AlliancePositionEnumLEADER:
		s.refuse(ctx, m, nation, "leader")
		return o, ErrLeader
	case !before.Position.IsMember() && action != Accept && action != Remove:
		s.refuse(ctx, m, nation, "applicant")
		return o, ErrApplicant
	case o.Old == value:
		o.State = AlreadyDone
		return o, nil
	}
	oldValues, newValues := map[string]any{"position": o.Old}, map[string]any{"position": value}
	if action == TaxBracket {
		bracket, _ := strconv.Atoi(value)
		var b pnw.TaxBracket
		b, err = s.game.AssignTaxBracket(ctx, k.Key, int(a.PnwAllianceID), nation, bracket)
		o.BracketName = b.BracketName
		oldValues, newValues = map[string]any{"tax_bracket": o.Old}, map[string]any{"tax_bracket": value, "bracket_name": b.BracketName}
	} else {
		err = s.game.AssignAlliancePosition(ctx, k.Key, int(a.PnwAllianceID), nation, pnw.DefaultAlliancePosition(value))
	}
	e := audit.Entry{User: &m.User.ID, Alliance: &a.ID, Action: "alliance.member_" + strings.ReplaceAll(string(action), "-", "_"), Resource: "nation",
		ResourceID: strconv.Itoa(nation), Old: oldValues, New: newValues}
	if err != nil {
		s.keys.Refused(ctx, a, k, err)
		e.Failed = true
		newValues["error"] = err.Error()
		o.State, o.Err = Unknown, err
		if pnw.NotExecuted(err) {
			o.State = Failed
		}
	}
	// What the game said is recorded even when the request is gone.
	s.audit.Record(context.WithoutCancel(ctx), e)
	return o, nil
}
