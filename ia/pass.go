package ia

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/store"
)

// Notifier tells Discord what the audit did; the commands render it.
type Notifier interface {
	// Report posts alliance a's daily report of day in channelID; a report
	// without Rules says the alliance has none yet.
	Report(ctx context.Context, channelID string, a store.Alliance, rep Report, day time.Time) error
	// Moved posts a move of the automation in channelID: to the inactive
	// bracket (with a way to undo it), or back.
	Moved(ctx context.Context, channelID string, mv Move, text string, back bool) error
	// Notify tells a user something in a DM.
	Notify(ctx context.Context, discordID, text string)
}

// Options are what New needs.
type Options struct {
	Store    *store.Store
	Game     *pnw.Client
	Keys     *keys.Keys
	Guild    Guild
	Notifier Notifier
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service is internal affairs: the audit of members, its daily report and
// reminders, and the inactive-bracket automation.
type Service struct {
	Auditor
	keys   *keys.Keys
	notify Notifier
	log    audit.Log
	logger *slog.Logger
	now    func() time.Time
}

// New builds the service.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{Auditor: Auditor{Store: o.Store, Game: o.Game, Guild: o.Guild}, keys: o.Keys, notify: o.Notifier,
		log: audit.Log{Store: o.Store, Logger: o.Logger}, logger: o.Logger, now: o.Now}
}

// reminderDays is how long sent reminders are remembered: one day would
// do; a week survives clock skew and late passes.
const reminderDays = 7

func day(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// Done is what a pass did, for the log.
type Done struct {
	Reports, Reminders, Moved, Restored, Stopped int
}

// Pass posts the daily reports due (once a day per alliance, whatever the
// replicas: a conditional claim), reminds the members failing a rule, and
// runs the inactive-bracket automations. An alliance that fails is logged
// and the others go on; the pass returns every failure.
func (s *Service) Pass(ctx context.Context) (Done, error) {
	var did Done
	var errs []error
	now := s.now().UTC()
	due, err := s.Store.AuditChannelListDue(ctx, store.AuditChannelListDueParams{Hour: int16(now.Hour()), Day: day(now)})
	if err != nil {
		return did, fmt.Errorf("due reports: %w", err)
	}
	for _, row := range due {
		if err := s.postReport(ctx, row.AuditChannel, row.Alliance, now, &did); err != nil {
			s.logger.WarnContext(ctx, "audit report failed", "alliance_id", row.Alliance.ID, "error", err)
			errs = append(errs, err)
		}
	}
	autos, err := s.Store.AuditAutomationListRunning(ctx)
	if err != nil {
		return did, fmt.Errorf("automations: %w", err)
	}
	for _, row := range autos {
		if err := s.runAutomation(ctx, row, now, &did); err != nil {
			s.logger.WarnContext(ctx, "inactive-bracket automation failed", "alliance_id", row.Alliance.ID, "error", err)
			errs = append(errs, err)
		}
	}
	if _, err := s.Store.AuditReminderPrune(ctx, day(now.AddDate(0, 0, -reminderDays))); err != nil {
		errs = append(errs, fmt.Errorf("prune reminders: %w", err))
	}
	return did, errors.Join(errs...)
}

// postReport claims today's report of alliance a, posts it and reminds its
// members; a report that cannot be read or posted gives its claim back for
// the next pass.
func (s *Service) postReport(ctx context.Context, c store.AuditChannel, a store.Alliance, now time.Time, did *Done) error {
	n, err := s.Store.AuditChannelClaim(ctx, store.AuditChannelClaimParams{AllianceID: a.ID, Day: day(now)})
	if err != nil || n == 0 {
		return err // 0: another replica has it
	}
	release := func(cause error) error {
		if err := s.Store.AuditChannelRelease(context.WithoutCancel(ctx), store.AuditChannelReleaseParams{AllianceID: a.ID, Previous: c.PostedOn, Day: day(now)}); err != nil {
			return errors.Join(cause, fmt.Errorf("release report claim: %w", err))
		}
		return cause
	}
	rep, err := s.Run(ctx, a, 0, now)
	if err != nil && !errors.Is(err, ErrNoRules) {
		return release(err)
	}
	if err := s.notify.Report(ctx, c.ChannelID, a, rep, now); err != nil {
		return release(err)
	}
	did.Reports++
	did.Reminders += s.remind(ctx, a, rep, now)
	return nil
}

// remind DMs each failing linked member what to fix, once per rule and
// day, unless they turned audit reminders off; it returns how many were
// sent. An applicant's wait is the government's to fix, not theirs.
func (s *Service) remind(ctx context.Context, a store.Alliance, rep Report, now time.Time) int {
	var ids []int64
	for _, r := range rep.Failing {
		if r.Member.DiscordID != "" {
			ids = append(ids, int64(r.Member.NationID))
		}
	}
	if len(ids) == 0 {
		return 0
	}
	rows, err := s.Store.UserListPreferencesByNationIDs(ctx, ids)
	if err != nil {
		s.logger.WarnContext(ctx, "audit reminders: preferences", "error", err)
		return 0
	}
	off := map[int64]bool{}
	for _, r := range rows {
		off[*r.PnwNationID] = !access.PreferencesOf(r.Preferences).AuditReminders
	}
	sent := 0
	for _, r := range rep.Failing {
		m := r.Member
		if m.DiscordID == "" || off[int64(m.NationID)] {
			continue
		}
		var fix []string
		for _, f := range r.Failures {
			if f.Rule.Kind == Applicant {
				continue
			}
			n, err := s.Store.AuditReminderClaim(ctx, store.AuditReminderClaimParams{RuleID: f.Rule.ID, NationID: int64(m.NationID), Day: day(now)})
			if err != nil {
				s.logger.WarnContext(ctx, "audit reminders: claim", "error", err)
				return sent
			}
			if n == 1 {
				fix = append(fix, "• "+f.Text+": "+Hint(f.Rule.Kind))
			}
		}
		if len(fix) == 0 {
			continue
		}
		s.notify.Notify(ctx, m.DiscordID, fmt.Sprintf("**%s**'s daily audit: your nation %s fails\n%s\nTurn these reminders off with /preferences audit_reminders:False.",
			a.Name, m.Name, strings.Join(fix, "\n")))
		sent++
	}
	return sent
}

// runAutomation runs one alliance's inactive-bracket automation with the
// key of the manager who set it. A key the game refuses, or one that may
// no longer move members, stops the automation and tells the admins once.
func (s *Service) runAutomation(ctx context.Context, row store.AuditAutomationListRunningRow, now time.Time, did *Done) error {
	au, a, m := row.AuditAutomation, row.Alliance, row.AllianceManager
	if !m.IsActive {
		return s.stop(ctx, a, "the manager who set it is no longer a manager", did)
	}
	setter := store.User{ID: m.UserID, KeySalt: row.KeySalt, DiscordID: row.DiscordID}
	k, err := s.keys.OwnKey(ctx, keys.Actor{User: setter, Alliance: a, Row: &m}, bracketPerm)
	var refusedKey *keys.OwnRefused
	if errors.As(err, &refusedKey) {
		return s.stop(ctx, a, "the alliance key of the manager who set it may not do it ("+refusedKey.Reason+")", did)
	} else if err != nil {
		return err
	}
	members, err := s.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		return err
	}
	roster := make([]Member, len(members.Data))
	for i, n := range members.Data {
		roster[i] = MemberOf(n)
	}
	open, err := s.Store.AuditMoveListOpen(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("open moves: %w", err)
	}
	undoneRows, err := s.Store.AuditMoveListUndone(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("undone moves: %w", err)
	}
	undone := make(map[int64]time.Time, len(undoneRows))
	for _, r := range undoneRows {
		undone[r.NationID] = *r.RestoredAt
	}
	plan := PlanBrackets(int(au.Days), roster, open, undone, now)
	refused := func(err error) error {
		if errors.Is(err, pnw.ErrInvalidKey) {
			s.keys.Refused(ctx, a, k, err)
			return s.stop(ctx, a, "the game refused the alliance key of the manager who set it", did)
		}
		return err
	}
	left := "left"
	for _, mv := range plan.Gone {
		if _, err := s.Store.AuditMoveRestore(ctx, store.AuditMoveRestoreParams{ID: mv.ID, RestoredBy: &left}); err != nil {
			return fmt.Errorf("close move: %w", err)
		}
	}
	for _, mv := range plan.Back {
		if err := s.moveBack(ctx, a, k, mv, "active", &m.UserID); errors.Is(err, ErrRestored) {
			continue
		} else if err != nil {
			return refused(err)
		}
		did.Restored++
		s.post(ctx, a, mv, fmt.Sprintf("**Nation %d** is active again: moved back from tax bracket %d to %s.", mv.NationID, mv.ToBracket, BracketName(mv.FromBracket)), true)
	}
	for _, mem := range plan.Move {
		mv, err := s.moveInactive(ctx, a, k, m.UserID, mem, int(au.BracketID))
		if err != nil {
			return refused(err)
		}
		if mv == nil {
			continue
		}
		did.Moved++
		s.post(ctx, a, *mv, fmt.Sprintf("**%s** has been inactive %d days: moved from tax bracket %s to %d.",
			mem.Name, InactiveDays(mem, now), BracketName(mv.FromBracket), mv.ToBracket), false)
	}
	return nil
}

// BracketName is a tax bracket's id, or "none".
func BracketName(id int64) string {
	if id == 0 {
		return "none"
	}
	return strconv.FormatInt(id, 10)
}

// moveInactive moves one inactive member to the bracket, recording the
// bracket it leaves first; nil when there is nothing to do (already there,
// or moved by another pass).
func (s *Service) moveInactive(ctx context.Context, a store.Alliance, k keys.Own, actor int64, mem Member, bracket int) (*Move, error) {
	before, err := s.Game.NationStanding(ctx, k.Key, mem.NationID)
	if errors.Is(err, pnw.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	from, _ := strconv.ParseInt(before.TaxID, 10, 64)
	if before.AllianceID != strconv.FormatInt(a.PnwAllianceID, 10) || from == int64(bracket) {
		return nil, nil
	}
	mv, err := s.Store.AuditMoveOpen(ctx, store.AuditMoveOpenParams{AllianceID: a.ID, NationID: int64(mem.NationID), FromBracket: from, ToBracket: int64(bracket)})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // another pass moved it
	} else if err != nil {
		return nil, fmt.Errorf("record move: %w", err)
	}
	e := audit.Entry{User: &actor, Alliance: &a.ID, Action: "audit.bracket_move", Resource: "nation", ResourceID: strconv.Itoa(mem.NationID),
		Old: map[string]any{"tax_bracket": before.TaxID}, New: map[string]any{"tax_bracket": strconv.Itoa(bracket), "reason": "inactive"}}
	if _, err := s.Game.AssignTaxBracket(ctx, k.Key, int(a.PnwAllianceID), mem.NationID, bracket); err != nil {
		if ferr := s.Store.AuditMoveForget(context.WithoutCancel(ctx), mv.ID); ferr != nil {
			s.logger.ErrorContext(ctx, "forget refused move", "move_id", mv.ID, "error", ferr)
		}
		e.Failed, e.New = true, map[string]any{"tax_bracket": strconv.Itoa(bracket), "error": err.Error()}
		s.log.Record(context.WithoutCancel(ctx), e)
		return nil, err
	}
	s.log.Record(context.WithoutCancel(ctx), e) // on its own: the game already moved it
	return &mv, nil
}

// ErrRestored: the move was already restored, by a pass or a click.
var ErrRestored = errors.New("ia: move already restored")

// ErrNotOurs: the move is another alliance's.
var ErrNotOurs = errors.New("ia: move of another alliance")

// Undo puts the member of move id back in the bracket it came from, with
// m's own alliance key once it may (*keys.OwnRefused, audited), and audits
// it as m's act. The automation leaves it there until the member is active
// again.
func (s *Service) Undo(ctx context.Context, m keys.Actor, id int64) (Move, error) {
	a, user := m.Alliance, m.User.ID
	own, err := s.ownKey(ctx, m, "audit.bracket_undo", "move", strconv.FormatInt(id, 10))
	if err != nil {
		return Move{}, err
	}
	mv, err := s.Store.AuditMoveGet(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && mv.AllianceID != a.ID:
		return mv, ErrNotOurs
	case err != nil:
		return mv, fmt.Errorf("move: %w", err)
	case mv.RestoredAt != nil:
		return mv, ErrRestored
	}
	if err := s.moveBack(ctx, a, own, mv, "undo", &user); err != nil {
		s.keys.Refused(ctx, a, own, err)
		return mv, err
	}
	return mv, nil
}

// moveBack returns a moved member to the bracket it came from (claimed
// first, so a second click or pass does nothing: ErrRestored), audited; by
// is "active" or "undo".
func (s *Service) moveBack(ctx context.Context, a store.Alliance, k keys.Own, mv Move, by string, actor *int64) error {
	n, err := s.Store.AuditMoveRestore(ctx, store.AuditMoveRestoreParams{ID: mv.ID, RestoredBy: &by})
	if err != nil {
		return fmt.Errorf("restore move: %w", err)
	} else if n == 0 {
		return ErrRestored
	}
	e := audit.Entry{User: actor, Alliance: &a.ID, Action: "audit.bracket_" + map[string]string{"active": "restore", "undo": "undo"}[by], Resource: "nation",
		ResourceID: strconv.FormatInt(mv.NationID, 10),
		Old:        map[string]any{"tax_bracket": strconv.FormatInt(mv.ToBracket, 10)}, New: map[string]any{"tax_bracket": strconv.FormatInt(mv.FromBracket, 10), "reason": by}}
	if mv.FromBracket == 0 { // it was in no bracket: the game has none to go back to
		e.New = map[string]any{"tax_bracket": "none", "reason": by, "note": "no bracket to go back to"}
		s.log.Record(context.WithoutCancel(ctx), e)
		return nil
	}
	if _, err := s.Game.AssignTaxBracket(ctx, k.Key, int(a.PnwAllianceID), int(mv.NationID), int(mv.FromBracket)); err != nil {
		if rerr := s.Store.AuditMoveReopen(context.WithoutCancel(ctx), mv.ID); rerr != nil {
			s.logger.ErrorContext(ctx, "reopen move", "move_id", mv.ID, "error", rerr)
		}
		e.Failed = true
		e.New = map[string]any{"tax_bracket": strconv.FormatInt(mv.FromBracket, 10), "reason": by, "error": err.Error()}
		s.log.Record(context.WithoutCancel(ctx), e)
		return err
	}
	s.log.Record(context.WithoutCancel(ctx), e)
	return nil
}

// post posts a move in the alliance's audit channel; without a channel it
// is only audited.
func (s *Service) post(ctx context.Context, a store.Alliance, mv Move, text string, back bool) {
	c, err := s.Store.AuditChannelGet(ctx, a.ID)
	if err != nil {
		return
	}
	if err := s.notify.Moved(ctx, c.ChannelID, mv, text, back); err != nil {
		s.logger.WarnContext(ctx, "post bracket move", "alliance_id", a.ID, "error", err)
	}
}

var errStopped = errors.New("automation already stopped")

// stop stops the alliance's automation and, the first time, audits it and
// tells its admins why.
func (s *Service) stop(ctx context.Context, a store.Alliance, reason string, did *Done) error {
	err := s.log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		n, err := q.AuditAutomationStop(ctx, store.AuditAutomationStopParams{AllianceID: a.ID, Reason: reason})
		if err == nil && n == 0 {
			err = errStopped
		}
		return audit.Entry{Alliance: &a.ID, Action: "audit.automation_stopped", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			New: map[string]any{"reason": reason}}, err
	})
	if errors.Is(err, errStopped) {
		return nil
	} else if err != nil {
		return fmt.Errorf("stop automation: %w", err)
	}
	did.Stopped++
	managers, err := s.Store.AllianceManagerListByAlliance(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("admins: %w", err)
	}
	for _, m := range managers {
		if m.AllianceManager.Role == access.Admin {
			s.notify.Notify(ctx, m.DiscordID, fmt.Sprintf("The inactive-bracket automation of **%s** stopped: %s. "+
				"A manager with an alliance key allowed alliance_tax_brackets sets it again with /audit automation inactive-bracket.", a.Name, reason))
		}
	}
	return nil
}
