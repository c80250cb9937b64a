package war

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"pnwbot/pnw"
	"pnwbot/store"
)

// The game's declare range: a nation may declare war on nations whose
// score is 75% to 250% of its own. Score "is generally the main
// determinant of war and spy ranges" (the game's PWPedia, "Score",
// https://politicsandwar.com/pwpedia/article/Score); the bounds are the
// "War Range" of https://politicsandwar.fandom.com/wiki/Nation_Formulas.
const (
	declareRangeLow  = 0.75
	declareRangeHigh = 2.50
)

// offensiveSlots is how many offensive wars a nation may have at once
// without the projects that add slots (which the bot cannot see).
const offensiveSlots = 5

// maxCounters is how many counters a search answers.
const maxCounters = 8

// InRange reports whether a nation of score can declare on one of target.
func InRange(score, target float64) bool {
	return target >= score*declareRangeLow && target <= score*declareRangeHigh
}

// Counter is a member who can declare on the attacker now.
type Counter struct {
	Nation pnw.Nation
	// User is their linked Discord user, or "".
	User string
	// Strength is their military weighted by what the attacker fields,
	// in the game's score points.
	Strength float64
}

// Why a member cannot counter, for tests and for a page that explains.
const (
	NotMember     = "not a member"
	OutOfRange    = "out of range"
	NoSlot        = "no free offensive slot"
	InVacation    = "in vacation mode"
	InBeige       = "in beige"
	IsTheAttacker = "the attacker"
)

// CanCounter says why m cannot declare on attacker now, or "".
func CanCounter(m, attacker pnw.Nation) string {
	switch {
	case m.Id == attacker.Id:
		return IsTheAttacker
	case !m.AlliancePosition.IsMember():
		return NotMember
	case m.VacationModeTurns > 0:
		return InVacation
	case m.BeigeTurns > 0:
		return InBeige
	case m.OffensiveWarsCount >= offensiveSlots:
		return NoSlot
	case !InRange(m.Score, attacker.Score):
		return OutOfRange
	}
	return ""
}

// militaryScore is each branch's units in the game's score points (the
// same PWPedia page): ground, air, sea.
func militaryScore(n pnw.Nation) [3]float64 {
	return [3]float64{float64(n.Soldiers)*0.0004 + float64(n.Tanks)*0.025, float64(n.Aircraft) * 0.3, float64(n.Ships) * 1}
}

// Strength is m's military weighted by the share of each branch in the
// attacker's: against an air force, planes count most. An attacker with
// no military weighs the branches alike.
func Strength(m, attacker pnw.Nation) float64 {
	mine, theirs := militaryScore(m), militaryScore(attacker)
	total := theirs[0] + theirs[1] + theirs[2]
	var s float64
	for i := range mine {
		w := 1.0 / 3
		if total > 0 {
			w = theirs[i] / total
		}
		s += w * mine[i]
	}
	return s
}

// Counters returns the attacker and up to eight members of the alliance
// (its game id) who can declare on it now, strongest first, each with
// their linked Discord user.
func (s *Service) Counters(ctx context.Context, allianceID int64, attackerID int64) (pnw.Nation, []Counter, error) {
	att, err := s.game.Nation(ctx, int(attackerID))
	if err != nil {
		return pnw.Nation{}, nil, fmt.Errorf("attacker: %w", err)
	}
	members, err := s.game.AllianceMembers(ctx, int(allianceID))
	if err != nil {
		return att.Data, nil, fmt.Errorf("members: %w", err)
	}
	var out []Counter
	for _, m := range members.Data {
		if CanCounter(m, att.Data) == "" {
			out = append(out, Counter{Nation: m, Strength: Strength(m, att.Data)})
		}
	}
	slices.SortStableFunc(out, func(a, b Counter) int { return cmp.Compare(b.Strength, a.Strength) })
	out = out[:min(len(out), maxCounters)]
	ids := make([]int64, len(out))
	for i, c := range out {
		ids[i], _ = strconv.ParseInt(c.Nation.Id, 10, 64)
	}
	users, err := s.st.UserListByNationIDs(ctx, ids)
	if err != nil {
		return att.Data, nil, fmt.Errorf("linked users: %w", err)
	}
	for i := range out {
		for _, u := range users {
			if u.PnwNationID != nil && strconv.FormatInt(*u.PnwNationID, 10) == out[i].Nation.Id {
				out[i].User = u.DiscordID
			}
		}
	}
	return att.Data, out, nil
}

// ErrNotOurs: the war is not one of the alliance's.
var ErrNotOurs = errors.New("war: not a war of this alliance")

// Enemy returns the nation fighting the alliance (its row id and game id)
// in a war: the attacker of a member, or the defender a member attacked.
func (s *Service) Enemy(ctx context.Context, allianceID, pnwAllianceID, warID int64) (int64, error) {
	row, err := s.st.WarAlertGet(ctx, store.WarAlertGetParams{AllianceID: allianceID, WarID: warID})
	switch {
	case err == nil && row.Kind == Offensive:
		return row.DefenderID, nil
	case err == nil:
		return row.AttackerID, nil
	case !errors.Is(err, store.ErrNotFound):
		return 0, err
	}
	found, err := s.game.WarsByID(ctx, []int{int(warID)})
	if err != nil {
		return 0, err
	}
	for _, g := range found {
		w, err := FromGame(g)
		switch {
		case err != nil:
			return 0, err
		case w.DefenderAlliance == pnwAllianceID:
			return w.AttackerID, nil
		case w.AttackerAlliance == pnwAllianceID:
			return w.DefenderID, nil
		}
	}
	return 0, ErrNotOurs
}
