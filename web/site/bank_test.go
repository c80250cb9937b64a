package site_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
)

// record stores a bank record of Rose's ledger as the ingest pass does.
func (b *bundle) record(t *testing.T, a store.Alliance, id int64, from, to map[string]any, note string, amounts map[string]float64) {
	t.Helper()
	rec := map[string]any{"kind": "bank", "pnw_id": id, "date": b.clock().Add(-time.Duration(100-id) * time.Minute), "banker_id": 0,
		"note": note, "tax_id": nil, "amounts": amounts,
		"sender_id": from["id"], "sender_type": from["type"], "receiver_id": to["id"], "receiver_type": to["type"]}
	raw, err := json.Marshal([]any{rec})
	require.NoError(t, err)
	_, err = b.st.BankRecordInsertGame(t.Context(), store.BankRecordInsertGameParams{AllianceID: a.ID, Records: raw})
	require.NoError(t, err)
}

func TestBankPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.linkTess(t, false)
	manager, stranger := b.browser(t), b.browser(t)
	b.signIn(t, manager, tess)
	b.signIn(t, stranger, bob)
	roseSide := map[string]any{"id": rose, "type": 2}
	tessSide := map[string]any{"id": tessNat, "type": 1}
	bobSide := map[string]any{"id": 4243, "type": 1}
	b.record(t, a, 1, tessSide, roseSide, "#deposit", map[string]float64{"money": 777})
	b.record(t, a, 2, bobSide, roseSide, "", map[string]float64{"money": 5000, "steel": 20})
	b.record(t, a, 3, roseSide, bobSide, "#loan #due=2020-01-02", map[string]float64{"money": 300})
	_, err := b.st.BankIngestLock(t.Context(), store.BankIngestLockParams{AllianceID: a.ID, Now: b.clock()})
	require.NoError(t, err)
	for i, v := range []float64{1_000_000, 1_250_000} {
		_, err = b.st.BankSnapshotInsert(t.Context(), store.BankSnapshotInsertParams{AllianceID: a.ID, Day: b.clock().UTC().AddDate(0, 0, i-1).Truncate(24 * time.Hour),
			Holdings: []byte(`{"money": 1}`), Value: v})
		require.NoError(t, err)
	}
	bobUser, err := b.st.UserUpsertByDiscordID(t.Context(), store.UserUpsertByDiscordIDParams{DiscordID: userBob, DiscordUsername: "bob", KeySalt: []byte("0123456789abcdef")})
	require.NoError(t, err)
	_, err = b.st.BankRequestCreate(t.Context(), store.BankRequestCreateParams{AllianceID: a.ID, UserID: &bobUser.ID, NationID: 4243,
		NationName: "Bobistan", Kind: "grant", Amounts: []byte(`{"money": 9}`), Reason: "rebuild after war", InteractionID: "1"})
	require.NoError(t, err)

	page := do(t, manager, http.MethodGet, b.url+"/alliances/rose/bank", nil)
	require.Equal(t, http.StatusOK, page.status, page.body)
	require.Contains(t, page.body, "ledger complete since")
	require.Regexp(t, `Bobistan</a> <span class="badge">overdue</span></td>\s*<td>\$5,000 · 20 steel</td><td>\$300</td>`, page.body)
	require.Contains(t, page.body, "Testonia</a></td>\n<td>$777</td>")
	require.Contains(t, page.body, "<td>2020-01-02</td>")
	require.Contains(t, page.body, "rebuild after war")
	require.Contains(t, page.body, `src="data:image/png;base64,`, "the holdings chart")
	require.Contains(t, do(t, manager, http.MethodGet, b.url+"/alliances/rose", nil).body, `href="/alliances/rose/bank"`)

	denied := do(t, stranger, http.MethodGet, b.url+"/alliances/rose/bank", nil)
	require.Equal(t, http.StatusForbidden, denied.status)
	require.Contains(t, denied.body, "canViewBank")
	require.NotContains(t, denied.body, "Bobistan")
	require.Len(t, b.audits(t, "permission.denied"), 1)

	me := do(t, manager, http.MethodGet, b.url+"/me", nil)
	require.Contains(t, me.body, "Your balance in Rose's bank")
	require.Contains(t, me.body, "<dt>Balance</dt><dd>$777</dd>")
	require.Contains(t, me.body, "<td>deposit</td><td>#deposit</td>")
}
