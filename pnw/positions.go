package pnw

import "strconv"

// IsMember reports whether a nation at position p counts as a member of
// its alliance: member or above (member, officer, heir, leader), not an
// applicant and not in no alliance. This is the one membership rule: only
// a member's key may act for an alliance, only a member banks with it,
// holds its member role, is counted in it or audited as one.
func (p AlliancePositionEnum) IsMember() bool {
	switch p {
	case AlliancePositionEnumMEMBER, AlliancePositionEnumOFFICER, AlliancePositionEnumHEIR, AlliancePositionEnumLEADER:
		return true
	}
	return false
}

// InAlliance reports whether the game shows a nation (in allianceID, at
// position pos) as a member of the alliance whose game id is id.
func InAlliance(allianceID string, pos AlliancePositionEnum, id int64) bool {
	return allianceID == strconv.FormatInt(id, 10) && pos.IsMember()
}
