package site_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

// TestAuditPage: members × rules with the words of /audit run, the failing
// cells marked, for canViewMembers only.
func TestAuditPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.linkTess(t, false)
	manager, stranger := b.browser(t), b.browser(t)
	b.signIn(t, manager, tess)
	b.signIn(t, stranger, bob)

	page := do(t, manager, http.MethodGet, b.url+"/alliances/rose/audit", nil)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "no audit rules yet")

	b.game.AddNation(fakepnw.Nation{ID: 4243, NationName: "Bobistan", LeaderName: "Bob", AllianceID: rose, Color: "red", NumCities: 10,
		Cities: []fakepnw.City{{ID: 1, Barracks: 30, Factory: 50, Hangar: 50, Drydock: 10}}})
	b.game.AddNation(fakepnw.Nation{ID: tessNat, NationName: "Testonia", LeaderName: "Tess", AllianceID: rose, AlliancePosition: "LEADER",
		NumCities: 21, Color: "purple", Cities: []fakepnw.City{{ID: 2, Barracks: 105, Factory: 105, Hangar: 105, Drydock: 63}}})
	// Vera is red and builds nothing, but in vacation mode: judged by none
	// of these rules.
	b.game.AddNation(fakepnw.Nation{ID: 4250, NationName: "Veraland", LeaderName: "Vera", AllianceID: rose, Color: "red", NumCities: 10,
		VacationModeTurns: 30})
	for _, r := range []store.AuditRuleUpsertParams{
		{AllianceID: a.ID, Kind: "color"},
		{AllianceID: a.ID, Kind: "mmr", Mmr: []int32{5, 5, 5, 3}},
		{AllianceID: a.ID, Kind: "applicant", Threshold: 2},
	} {
		_, err := b.st.AuditRuleUpsert(t.Context(), r)
		require.NoError(t, err)
	}
	page = do(t, manager, http.MethodGet, b.url+"/alliances/rose/audit", nil)
	require.Equal(t, http.StatusOK, page.status, page.body)
	require.Contains(t, page.body, "<strong>1</strong> failing · <strong>2</strong> passing · 3 rules")
	require.Contains(t, page.body, `<td class="fails">color red, rule purple</td><td class="fails">MMR 3/5/5/1, rule 5/5/5/3</td><td>—</td>`,
		"Bobistan fails two rules; the applicant rule does not judge a member")
	require.Contains(t, page.body, `Testonia</a> <span class="muted">Tess</span></td>
<td>ok</td><td>ok</td><td>—</td>`)
	require.Contains(t, page.body, `Veraland</a> <span class="muted">Vera</span> <span class="badge">vacation mode</span></td>
<td>—</td><td>—</td><td>—</td>`)

	denied := do(t, stranger, http.MethodGet, b.url+"/alliances/rose/audit", nil)
	require.Equal(t, http.StatusForbidden, denied.status)
	require.Contains(t, denied.body, "canViewMembers")
	require.NotContains(t, denied.body, "Bobistan")
	rows := b.audits(t, "permission.denied")
	require.Len(t, rows, 1)
	require.Contains(t, string(rows[0].NewValues), "/alliances/{slug}/audit")
}
