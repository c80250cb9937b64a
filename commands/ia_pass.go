package commands

// /audit channel and /audit automation, and the audit pass that posts the
// daily report, reminds members and runs the automation.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/jackc/pgx/v5/pgtype"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/ia"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/store"
)

const routeAuditUndo = "audit/undo/{move}"

// reminderDays is how long sent reminders are remembered: one day would
// do; a week survives clock skew and late passes.
const reminderDays = 7

func day(t time.Time) pgtype.Date {
	return pgtype.Date{Time: t.UTC().Truncate(24 * time.Hour), Valid: true}
}

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
	err := d.change(ctx, func(q *store.Queries) (audit.Entry, error) {
		var old map[string]any
		if prev, err := q.AuditChannelGet(ctx, a.ID); err == nil {
			old = map[string]any{"channel_id": prev.ChannelID, "hour": prev.Hour}
		}
		_, err := q.AuditChannelSet(ctx, store.AuditChannelSetParams{AllianceID: a.ID, ChannelID: o.Channel, Hour: int16(o.Hour)})
		return audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "audit.channel_set", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			Old: old, New: map[string]any{"channel_id": o.Channel, "hour": o.Hour}}, err
	})
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
		err := d.change(ctx, func(q *store.Queries) (audit.Entry, error) {
			old, err := q.AuditAutomationDelete(ctx, a.ID)
			return audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "audit.automation_off", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
				Old: map[string]any{"days": old.Days, "bracket": old.BracketID}}, err
		})
		if errors.Is(err, store.ErrNotFound) {
			return &bot.Response{Ephemeral: true, Content: "The inactive-bracket automation was already off."}, nil
		} else if err != nil {
			return nil, fmt.Errorf("automation off: %w", err)
		}
		return &bot.Response{Ephemeral: true, Content: "The inactive-bracket automation is off. Members it moved stay where they are."}, nil
	}
	refuse := d.iaRefusal(ctx, u, a, "audit.automation", "alliance", strconv.FormatInt(a.PnwAllianceID, 10))
	if _, err := d.ownKey(req, "alliance_tax_brackets", refuse); err != nil {
		return nil, err
	}
	if !d.Game.CanMutate() {
		return nil, refuse("no bot key", "This pnwbot has no game bot key (PNW_BOT_KEY), without which the game refuses to move members between brackets: ask its operator. Nothing was changed.")
	}
	err := d.change(ctx, func(q *store.Queries) (audit.Entry, error) {
		m := req.Perms.Manager // ownKey found it
		_, err := q.AuditAutomationSet(ctx, store.AuditAutomationSetParams{AllianceID: a.ID, Days: int32(o.Days), BracketID: int64(o.Bracket), ManagerID: m.ID})
		return audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "audit.automation_set", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			New: map[string]any{"days": o.Days, "bracket": o.Bracket, "manager_id": m.ID}}, err
	})
	if err != nil {
		return nil, fmt.Errorf("set automation: %w", err)
	}
	return &bot.Response{Ephemeral: true, Content: fmt.Sprintf("From the next audit pass, members of %s inactive %d days or more move to tax bracket %d with your alliance key, "+
		"and back to their bracket once active again. Each move is audited and posted in the audit channel (/audit channel) with an Undo button.", a.Name, o.Days, o.Bracket)}, nil
}

// iaRefusal returns a function that audits a refused audit action and
// answers msg.
func (d *Deps) iaRefusal(ctx context.Context, u store.User, a store.Alliance, action, resource, id string) func(reason, msg string) error {
	return func(reason, msg string) error {
		d.audit(ctx, audit.Entry{User: &u.ID, Alliance: &a.ID, Action: action, Resource: resource, ResourceID: id, Failed: true,
			New: map[string]any{"reason": reason}})
		return bot.UserError(msg)
	}
}

// AuditDone is what an audit pass did, for the log.
type AuditDone struct {
	Reports, Reminders, Moved, Restored, Stopped int
}

// AuditPass posts the daily reports due (once a day per alliance, whatever
// the replicas: a conditional claim), reminds the members failing a rule,
// and runs the inactive-bracket automations. An alliance that fails is
// logged and the others go on; the pass returns every failure.
func (d *Deps) AuditPass(ctx context.Context) (AuditDone, error) {
	var did AuditDone
	var errs []error
	now := d.Now().UTC()
	due, err := d.Store.AuditChannelListDue(ctx, store.AuditChannelListDueParams{Hour: int16(now.Hour()), Day: day(now)})
	if err != nil {
		return did, fmt.Errorf("due reports: %w", err)
	}
	for _, row := range due {
		if err := d.postReport(ctx, row.AuditChannel, row.Alliance, now, &did); err != nil {
			d.Logger.WarnContext(ctx, "audit report failed", "alliance_id", row.Alliance.ID, "error", err)
			errs = append(errs, err)
		}
	}
	autos, err := d.Store.AuditAutomationListRunning(ctx)
	if err != nil {
		return did, fmt.Errorf("automations: %w", err)
	}
	for _, row := range autos {
		if err := d.runAutomation(ctx, row, now, &did); err != nil {
			d.Logger.WarnContext(ctx, "inactive-bracket automation failed", "alliance_id", row.Alliance.ID, "error", err)
			errs = append(errs, err)
		}
	}
	if _, err := d.Store.AuditReminderPrune(ctx, day(now.AddDate(0, 0, -reminderDays))); err != nil {
		errs = append(errs, fmt.Errorf("prune reminders: %w", err))
	}
	return did, errors.Join(errs...)
}

// postReport claims today's report of alliance a, posts it and reminds its
// members; a report that cannot be read or posted gives its claim back for
// the next pass.
func (d *Deps) postReport(ctx context.Context, c store.AuditChannel, a store.Alliance, now time.Time, did *AuditDone) error {
	n, err := d.Store.AuditChannelClaim(ctx, store.AuditChannelClaimParams{AllianceID: a.ID, Day: day(now)})
	if err != nil || n == 0 {
		return err // 0: another replica has it
	}
	release := func(cause error) error {
		if err := d.Store.AuditChannelRelease(context.WithoutCancel(ctx), store.AuditChannelReleaseParams{AllianceID: a.ID, Previous: c.PostedOn, Day: day(now)}); err != nil {
			return errors.Join(cause, fmt.Errorf("release report claim: %w", err))
		}
		return cause
	}
	rep, err := d.Auditor().Run(ctx, a, 0, now)
	msg := &bot.Response{}
	switch {
	case errors.Is(err, ia.ErrNoRules):
		msg.Content = fmt.Sprintf("Daily audit of **%s**: no rules yet. A manager adds them with /audit rules set.", a.Name)
	case err != nil:
		return release(err)
	default:
		e := auditEmbed(a, rep)
		e.Title = truncate(fmt.Sprintf("Daily audit of %s · %s", a.Name, now.Format("2006-01-02")), 256)
		e.Description = fitLines(e.Description, auditLines(rep.Failing), "\n…and %d more: /audit run lists them all.")
		msg.Embeds = []*discordgo.MessageEmbed{e}
	}
	if d.Channels == nil {
		return release(errors.New("no Discord to post in"))
	}
	if _, err := d.Channels.SendChannelMessage(ctx, c.ChannelID, msg, nil, nil); err != nil {
		return release(err)
	}
	did.Reports++
	if err == nil && len(rep.Failing) > 0 {
		did.Reminders += d.remind(ctx, a, rep, now)
	}
	return nil
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

// remind DMs each failing linked member what to fix, once per rule and
// day, unless they turned audit reminders off; it returns how many were
// sent. An applicant's wait is the government's to fix, not theirs.
func (d *Deps) remind(ctx context.Context, a store.Alliance, rep ia.Report, now time.Time) int {
	var ids []int64
	for _, r := range rep.Failing {
		if r.Member.DiscordID != "" {
			ids = append(ids, int64(r.Member.NationID))
		}
	}
	rows, err := d.Store.UserListPreferencesByNationIDs(ctx, ids)
	if err != nil {
		d.Logger.WarnContext(ctx, "audit reminders: preferences", "error", err)
		return 0
	}
	off := map[int64]bool{}
	for _, r := range rows {
		off[*r.PnwNationID] = !preferencesOf(r.Preferences).AuditReminders
	}
	sent := 0
	for _, r := range rep.Failing {
		m := r.Member
		if m.DiscordID == "" || off[int64(m.NationID)] {
			continue
		}
		var fix []string
		for _, f := range r.Failures {
			if f.Rule.Kind == ia.Applicant {
				continue
			}
			n, err := d.Store.AuditReminderClaim(ctx, store.AuditReminderClaimParams{RuleID: f.Rule.ID, NationID: int64(m.NationID), Day: day(now)})
			if err != nil {
				d.Logger.WarnContext(ctx, "audit reminders: claim", "error", err)
				return sent
			}
			if n == 1 {
				fix = append(fix, "• "+f.Text+": "+ia.Hint(f.Rule.Kind))
			}
		}
		if len(fix) == 0 {
			continue
		}
		d.notify(ctx, m.DiscordID, fmt.Sprintf("**%s**'s daily audit: your nation %s fails\n%s\nTurn these reminders off with /preferences audit_reminders:False.",
			a.Name, m.Name, strings.Join(fix, "\n")))
		sent++
	}
	return sent
}

// runAutomation runs one alliance's inactive-bracket automation with the
// key of the manager who set it. A key the game refuses, or one that may
// no longer move members, stops the automation and tells the admins once.
func (d *Deps) runAutomation(ctx context.Context, row store.AuditAutomationListRunningRow, now time.Time, did *AuditDone) error {
	au, a, m := row.AuditAutomation, row.Alliance, row.AllianceManager
	if !m.IsActive {
		return d.stopAutomation(ctx, a, "the manager who set it is no longer a manager", did)
	}
	setter := store.User{ID: m.UserID, KeySalt: row.KeySalt, DiscordID: row.DiscordID}
	k, err := d.GameKeys.OwnKey(setter, &m, "alliance_tax_brackets")
	var refusedKey *keys.OwnRefused
	if errors.As(err, &refusedKey) {
		return d.stopAutomation(ctx, a, "the alliance key of the manager who set it may not do it ("+refusedKey.Reason+")", did)
	} else if err != nil {
		return err
	}
	members, err := d.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		return err
	}
	roster := make([]ia.Member, len(members.Data))
	for i, n := range members.Data {
		roster[i] = ia.MemberOf(n)
	}
	open, err := d.Store.AuditMoveListOpen(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("open moves: %w", err)
	}
	undoneRows, err := d.Store.AuditMoveListUndone(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("undone moves: %w", err)
	}
	undone := make(map[int64]time.Time, len(undoneRows))
	for _, r := range undoneRows {
		undone[r.NationID] = *r.RestoredAt
	}
	plan := ia.PlanBrackets(int(au.Days), roster, open, undone, now)
	refused := func(err error) error {
		if errors.Is(err, pnw.ErrInvalidKey) {
			d.GameKeys.Refused(ctx, a, k, err)
			return d.stopAutomation(ctx, a, "the game refused the alliance key of the manager who set it", did)
		}
		return err
	}
	for _, mv := range plan.Gone {
		if _, err := d.Store.AuditMoveRestore(ctx, store.AuditMoveRestoreParams{ID: mv.ID, RestoredBy: ptrTo("left")}); err != nil {
			return fmt.Errorf("close move: %w", err)
		}
	}
	for _, mv := range plan.Back {
		if err := d.moveBack(ctx, a, k, mv, "active", &m.UserID); errors.Is(err, errRestored) {
			continue
		} else if err != nil {
			return refused(err)
		}
		did.Restored++
		d.postMove(ctx, a, fmt.Sprintf("**Nation %d** is active again: moved back from tax bracket %d to %s.", mv.NationID, mv.ToBracket, bracketName(mv.FromBracket)), nil)
	}
	for _, mem := range plan.Move {
		mv, err := d.moveInactive(ctx, a, k, m.UserID, mem, int(au.BracketID))
		if err != nil {
			return refused(err)
		}
		if mv == nil {
			continue
		}
		did.Moved++
		d.postMove(ctx, a, fmt.Sprintf("**%s** has been inactive %d days: moved from tax bracket %s to %d.",
			mem.Name, ia.InactiveDays(mem, now), bracketName(mv.FromBracket), mv.ToBracket), mv)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

func bracketName(id int64) string {
	if id == 0 {
		return "none"
	}
	return strconv.FormatInt(id, 10)
}

// moveInactive moves one inactive member to the bracket, recording the
// bracket it leaves first; nil when there is nothing to do (already there,
// or moved by another pass).
func (d *Deps) moveInactive(ctx context.Context, a store.Alliance, k keys.Own, actor int64, mem ia.Member, bracket int) (*ia.Move, error) {
	before, err := d.Game.NationStanding(ctx, k.Key, mem.NationID)
	if errors.Is(err, pnw.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	from, _ := strconv.ParseInt(before.TaxID, 10, 64)
	if before.AllianceID != strconv.FormatInt(a.PnwAllianceID, 10) || from == int64(bracket) {
		return nil, nil
	}
	mv, err := d.Store.AuditMoveOpen(ctx, store.AuditMoveOpenParams{AllianceID: a.ID, NationID: int64(mem.NationID), FromBracket: from, ToBracket: int64(bracket)})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // another pass moved it
	} else if err != nil {
		return nil, fmt.Errorf("record move: %w", err)
	}
	e := audit.Entry{User: &actor, Alliance: &a.ID, Action: "audit.bracket_move", Resource: "nation", ResourceID: strconv.Itoa(mem.NationID),
		Old: map[string]any{"tax_bracket": before.TaxID}, New: map[string]any{"tax_bracket": strconv.Itoa(bracket), "reason": "inactive"}}
	if _, err := d.Game.AssignTaxBracket(ctx, k.Key, int(a.PnwAllianceID), mem.NationID, bracket); err != nil {
		if ferr := d.Store.AuditMoveForget(context.WithoutCancel(ctx), mv.ID); ferr != nil {
			d.Logger.ErrorContext(ctx, "forget refused move", "move_id", mv.ID, "error", ferr)
		}
		e.Failed, e.New = true, map[string]any{"tax_bracket": strconv.Itoa(bracket), "error": err.Error()}
		d.audit(context.WithoutCancel(ctx), e)
		return nil, err
	}
	d.audit(context.WithoutCancel(ctx), e)
	return &mv, nil
}

// errRestored: the move was already restored, by a pass or a click.
var errRestored = errors.New("move already restored")

// moveBack returns a moved member to the bracket it came from (claimed
// first, so a second click or pass does nothing: errRestored), audited; by
// is "active" or "undo".
func (d *Deps) moveBack(ctx context.Context, a store.Alliance, k keys.Own, mv ia.Move, by string, actor *int64) error {
	n, err := d.Store.AuditMoveRestore(ctx, store.AuditMoveRestoreParams{ID: mv.ID, RestoredBy: &by})
	if err != nil {
		return fmt.Errorf("restore move: %w", err)
	} else if n == 0 {
		return errRestored
	}
	e := audit.Entry{User: actor, Alliance: &a.ID, Action: "audit.bracket_" + map[string]string{"active": "restore", "undo": "undo"}[by], Resource: "nation",
		ResourceID: strconv.FormatInt(mv.NationID, 10),
		Old:        map[string]any{"tax_bracket": strconv.FormatInt(mv.ToBracket, 10)}, New: map[string]any{"tax_bracket": strconv.FormatInt(mv.FromBracket, 10), "reason": by}}
	if mv.FromBracket == 0 { // it was in no bracket: the game has none to go back to
		e.New = map[string]any{"tax_bracket": "none", "reason": by, "note": "no bracket to go back to"}
		d.audit(context.WithoutCancel(ctx), e)
		return nil
	}
	if _, err := d.Game.AssignTaxBracket(ctx, k.Key, int(a.PnwAllianceID), int(mv.NationID), int(mv.FromBracket)); err != nil {
		if rerr := d.Store.AuditMoveReopen(context.WithoutCancel(ctx), mv.ID); rerr != nil {
			d.Logger.ErrorContext(ctx, "reopen move", "move_id", mv.ID, "error", rerr)
		}
		e.Failed = true
		e.New = map[string]any{"tax_bracket": strconv.FormatInt(mv.FromBracket, 10), "reason": by, "error": err.Error()}
		d.audit(context.WithoutCancel(ctx), e)
		return err
	}
	d.audit(context.WithoutCancel(ctx), e)
	return nil
}

// postMove posts a move in the alliance's audit channel, with an Undo
// button for a move to the inactive bracket; without a channel it is only
// audited.
func (d *Deps) postMove(ctx context.Context, a store.Alliance, text string, mv *ia.Move) {
	c, err := d.Store.AuditChannelGet(ctx, a.ID)
	if err != nil || d.Channels == nil {
		return
	}
	msg := &bot.Response{Content: text}
	if mv != nil {
		msg.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Undo", Style: discordgo.SecondaryButton, CustomID: bot.CustomID(routeAuditUndo, strconv.FormatInt(mv.ID, 10))},
		}}}
	}
	if _, err := d.Channels.SendChannelMessage(ctx, c.ChannelID, msg, nil, nil); err != nil {
		d.Logger.WarnContext(ctx, "post bracket move", "alliance_id", a.ID, "error", err)
	}
}

var errStopped = errors.New("automation already stopped")

// stopAutomation stops the alliance's automation and, the first time,
// audits it and tells its admins why.
func (d *Deps) stopAutomation(ctx context.Context, a store.Alliance, reason string, did *AuditDone) error {
	var n int64
	err := d.change(ctx, func(q *store.Queries) (audit.Entry, error) {
		var err error
		n, err = q.AuditAutomationStop(ctx, store.AuditAutomationStopParams{AllianceID: a.ID, Reason: reason})
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
	managers, err := d.Store.AllianceManagerListByAlliance(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("admins: %w", err)
	}
	for _, m := range managers {
		if m.AllianceManager.Role == access.Admin {
			d.notify(ctx, m.DiscordID, fmt.Sprintf("The inactive-bracket automation of **%s** stopped: %s. "+
				"A manager with an alliance key allowed alliance_tax_brackets sets it again with /audit automation inactive-bracket.", a.Name, reason))
		}
	}
	return nil
}

// auditUndo is the Undo button of a move: the member goes back to the
// bracket it came from, with the clicking manager's own key.
func (d *Deps) auditUndo(ctx context.Context, req *call) (*bot.Response, error) {
	id, err := strconv.ParseInt(req.Var("move"), 10, 64)
	if err != nil {
		return nil, bot.UserError("This button is broken.")
	}
	u, a := req.Account, req.Alliance
	mv, err := d.Store.AuditMoveGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && mv.AllianceID != a.ID {
		return nil, bot.UserError("This move is not one of this alliance's.")
	} else if err != nil {
		return nil, fmt.Errorf("move: %w", err)
	}
	if mv.RestoredAt != nil {
		return updated(fmt.Sprintf("Nation %d is already back in tax bracket %s (%s).", mv.NationID, bracketName(mv.FromBracket), *mv.RestoredBy)), nil
	}
	refuse := d.iaRefusal(ctx, u, a, "audit.bracket_undo", "nation", strconv.FormatInt(mv.NationID, 10))
	k, err := d.ownKey(req, "alliance_tax_brackets", refuse)
	if err != nil {
		return nil, err
	}
	if err := d.moveBack(ctx, a, k, mv, "undo", &u.ID); errors.Is(err, errRestored) {
		return updated(fmt.Sprintf("Nation %d is already back in tax bracket %s.", mv.NationID, bracketName(mv.FromBracket))), nil
	} else if err != nil {
		d.GameKeys.Refused(ctx, a, k, err)
		var pe *pnw.Error
		switch {
		case errors.Is(err, pnw.ErrInvalidKey):
			return nil, bot.UserError("The game refused your alliance key: link your current one with /alliance key. Nothing was changed.")
		case errors.Is(err, pnw.ErrPermission) && errors.As(err, &pe) && pe.Message != "":
			return nil, bot.UserErrorf("The game refused it: %s Nothing was changed.", pe.Message)
		}
		return nil, gameError(err, "Nothing was changed.")
	}
	return updated(fmt.Sprintf("Undone by <@%s>: nation %d is back in tax bracket %s. The automation leaves it there until it is active again.",
		req.User.ID, mv.NationID, bracketName(mv.FromBracket))), nil
}
