package pnw_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
)

// TestMembership: member and above count as members of their alliance;
// an applicant, a nation in no alliance and an unknown position do not,
// nor does a member of another alliance.
func TestMembership(t *testing.T) {
	t.Parallel()
	want := map[pnw.AlliancePositionEnum]bool{
		pnw.AlliancePositionEnumNOALLIANCE: false,
		pnw.AlliancePositionEnumAPPLICANT:  false,
		pnw.AlliancePositionEnumMEMBER:     true,
		pnw.AlliancePositionEnumOFFICER:    true,
		pnw.AlliancePositionEnumHEIR:       true,
		pnw.AlliancePositionEnumLEADER:     true,
		"":                                 false,
	}
	for _, p := range pnw.AllAlliancePositionEnum {
		_, ok := want[p]
		require.True(t, ok, "every position of the game's schema is in the table: %s", p)
	}
	for p, member := range want {
		require.Equal(t, member, p.IsMember(), "position %q", p)
		require.Equal(t, member, pnw.InAlliance("4729", p, 4729), "in the alliance at %q", p)
		require.False(t, pnw.InAlliance("4730", p, 4729), "another alliance's %q", p)
	}
}
