package ia_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/ia"
)

func TestPlanBrackets(t *testing.T) {
	t.Parallel()
	movedAt := now.Add(-2 * day)
	members := []ia.Member{
		{NationID: 1, LastActive: ago(8 * day)},                   // inactive: moves
		{NationID: 2, LastActive: ago(7*day - time.Second)},       // six whole days: stays
		{NationID: 3, LastActive: ago(7 * day)},                   // exactly seven: moves
		{NationID: 4, LastActive: ago(time.Hour)},                 // moved, active since: back
		{NationID: 5, LastActive: ago(9 * day)},                   // moved, still away: stays moved
		{NationID: 6, LastActive: ago(9 * day)},                   // undone by hand, still away: left alone
		{NationID: 7, LastActive: ago(time.Hour)},                 // undone, then active, now away again? no: active
		{NationID: 8, Applicant: true, LastActive: ago(30 * day)}, // applicants are in no bracket
		{NationID: 9}, // last activity unknown
		{NationID: 10, VacationTurns: 20, LastActive: ago(30 * day)}, // in vacation mode: away by design
	}
	open := []ia.Move{
		{ID: 40, NationID: 4, MovedAt: movedAt},
		{ID: 50, NationID: 5, MovedAt: movedAt},
		{ID: 100, NationID: 100, MovedAt: movedAt}, // left the alliance
	}
	undone := map[int64]time.Time{6: ago(day), 7: ago(day)}
	p := ia.PlanBrackets(7, members, open, undone, now)
	var moved []int
	for _, m := range p.Move {
		moved = append(moved, m.NationID)
	}
	require.Equal(t, []int{1, 3}, moved)
	require.Len(t, p.Back, 1)
	require.EqualValues(t, 40, p.Back[0].ID)
	require.Len(t, p.Gone, 1)
	require.EqualValues(t, 100, p.Gone[0].ID)

	// Once an undone member has been active since, a new absence moves it
	// again.
	members[5].LastActive = ago(8 * day)
	undone[6] = ago(9 * day)
	p = ia.PlanBrackets(7, members[5:6], nil, undone, now)
	require.Len(t, p.Move, 1)
}
