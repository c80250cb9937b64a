package fakepnw

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// TaxBracket is one of an alliance's tax brackets.
type TaxBracket struct {
	ID              int    `json:"id,string"`
	Name            string `json:"bracket_name"`
	TaxRate         int    `json:"tax_rate"`
	ResourceTaxRate int    `json:"resource_tax_rate"`
}

// Nation returns the nation as it is now (after member actions).
func (s *Server) Nation(id int) Nation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nations[id]
}

// SetInactiveDays makes a nation last active days ago (0: just now), as if
// its player had stayed away that long.
func (s *Server) SetInactiveDays(id, days int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nations[id]
	n.LastActive = time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	s.nations[id] = n
}

// positionIDs are the game's default positions' ids, as its schema
// documents them.
var positionIDs = map[string]int{"APPLICANT": 0, "MEMBER": 232, "OFFICER": 231, "HEIR": 230, "LEADER": 229}

// officerOf: the viewer's nation is an officer, heir or leader of the
// alliance.
func (x *executor) officerOf(allianceID int) bool {
	n, ok := x.s.nations[x.viewer.nationID]
	return ok && allianceID != 0 && n.AllianceID == allianceID &&
		(n.AlliancePosition == "OFFICER" || n.AlliancePosition == "HEIR" || n.AlliancePosition == "LEADER")
}

// officer returns the viewer's nation when it may act on its alliance's
// members and the key has perm.
func (x *executor) officer(perm string) (Nation, error) {
	if !x.viewer.perms[perm] {
		return Nation{}, fmt.Errorf("This API key does not have the %s permission.", perm)
	}
	n := x.s.nations[x.viewer.nationID]
	if !x.officerOf(n.AllianceID) {
		return Nation{}, errors.New("You must be an officer of an alliance to do that.")
	}
	return n, nil
}

func (x *executor) assignPosition(args map[string]any) (any, error) {
	target, ok := x.s.nations[toInt(args["id"])]
	position, _ := args["default_position"].(string)
	perm := "alliance_change_permissions"
	switch {
	case position == "REMOVE":
		perm = "alliance_remove_members"
	case target.AlliancePosition == "APPLICANT" && position == "MEMBER":
		perm = "alliance_accept_applicants"
	}
	me, err := x.officer(perm)
	if err != nil {
		return nil, err
	}
	if !ok || target.AllianceID != me.AllianceID {
		return nil, errors.New("That nation is not in your alliance.")
	}
	if target.AlliancePosition == "LEADER" || position == "LEADER" {
		return nil, errors.New("You cannot change the leader's position.")
	}
	if position == "REMOVE" {
		target.AllianceID, target.AlliancePosition, target.TaxID = 0, "NOALLIANCE", 0
		x.s.nations[target.ID] = target
		return nil, nil
	}
	if _, known := positionIDs[position]; !known {
		return nil, errors.New("Choose a default position.")
	}
	target.AlliancePosition = position
	x.s.nations[target.ID] = target
	return map[string]any{"id": strconv.Itoa(positionIDs[position]), "name": position, "alliance_id": strconv.Itoa(me.AllianceID)}, nil
}

func (x *executor) assignTaxBracket(args map[string]any) (any, error) {
	me, err := x.officer("alliance_tax_brackets")
	if err != nil {
		return nil, err
	}
	target, ok := x.s.nations[toInt(args["target_id"])]
	if !ok || target.AllianceID != me.AllianceID || target.AlliancePosition == "APPLICANT" {
		return nil, errors.New("That nation is not a member of your alliance.")
	}
	for _, b := range x.s.alliances[me.AllianceID].TaxBrackets {
		if b.ID == toInt(args["id"]) {
			target.TaxID = b.ID
			x.s.nations[target.ID] = target
			m := record(b, nil, "")
			m["alliance_id"] = strconv.Itoa(me.AllianceID)
			return m, nil
		}
	}
	return nil, errors.New("That tax bracket does not exist in your alliance.")
}
