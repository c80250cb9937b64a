package ia

import (
	"time"

	"pnwbot/store"
)

// Move is a member the automation moved, as audit_bracket_moves holds it.
type Move = store.AuditBracketMove

// BracketPlan is what the inactive-bracket automation does in one pass.
type BracketPlan struct {
	// Move are members inactive for the automation's days, not yet moved
	// and not moved back by hand since they were last active.
	Move []Member
	// Back are moves whose member has been active since.
	Back []Move
	// Gone are moves whose member left the alliance: nothing to move back.
	Gone []Move
}

// PlanBrackets decides the automation's pass: members inactive for days
// (whole days, as the inactive rule counts them) move to the bracket; a
// moved member active again moves back. A move undone by a manager stands
// until the member is active again, else the next pass would redo it.
// Applicants are not in a bracket yet, and members in vacation mode are
// away by design (and pay no taxes meanwhile): both are left alone.
func PlanBrackets(days int, members []Member, open []Move, undone map[int64]time.Time, now time.Time) BracketPlan {
	var p BracketPlan
	byID := make(map[int64]Member, len(members))
	for _, m := range members {
		byID[int64(m.NationID)] = m
	}
	moved := make(map[int64]bool, len(open))
	for _, mv := range open {
		moved[mv.NationID] = true
		m, ok := byID[mv.NationID]
		switch {
		case !ok || m.Applicant:
			p.Gone = append(p.Gone, mv)
		case activeSince(m, mv.MovedAt):
			p.Back = append(p.Back, mv)
		}
	}
	for _, m := range members {
		id := int64(m.NationID)
		if m.Applicant || m.VacationTurns > 0 || moved[id] || m.LastActive.IsZero() || InactiveDays(m, now) < days {
			continue
		}
		if at, ok := undone[id]; ok && !activeSince(m, at) {
			continue
		}
		p.Move = append(p.Move, m)
	}
	return p
}

// activeSince: m was active at or after t, to the game's precision (whole
// seconds).
func activeSince(m Member, t time.Time) bool {
	return !m.LastActive.Before(t.Truncate(time.Second))
}

// InactiveDays is how many whole days m has been inactive.
func InactiveDays(m Member, now time.Time) int {
	return int(now.Sub(m.LastActive) / (24 * time.Hour))
}
