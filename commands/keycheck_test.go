package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/keys"
	"pnwbot/store"
)

func TestVerifyKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	a := b.setUp(t) // Alice, Bob and Carol linked
	const carolAllianceKey = "carolalliance0000000"
	b.game.AddKey(carolAllianceKey, carolNat, "alliance_view_bank")
	b.manage(t, a, carolID, "manager", nil)
	b.linkAllianceKey(t, a, carolID, carolAllianceKey, "alliance_view_bank")
	notices := &dmRecorder{}
	b.with(func(d *wiring) { d.Notices = notices })

	// Checked a moment ago: the pass leaves every key alone.
	got, err := b.deps.GameKeys.Verify(ctx)
	require.NoError(t, err)
	require.Equal(t, keys.Verified{}, got)

	// A day later Bob's key and Carol's alliance key were regenerated.
	b.now = time.Now().Add(25 * time.Hour)
	b.game.RevokeKey(bobKey)
	b.game.RevokeKey(carolAllianceKey)
	got, err = b.deps.GameKeys.Verify(ctx)
	require.NoError(t, err)
	require.Equal(t, keys.Verified{Checked: 2, Revoked: 2}, got, "Alice's and Carol's own keys pass, Bob's and Carol's alliance key do not")

	require.NotNil(t, b.user(t, bobID).KeyRevokedAt)
	require.Nil(t, b.user(t, aliceID).KeyRevokedAt)
	require.Nil(t, b.user(t, carolID).KeyRevokedAt)
	m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, carolID).ID, AllianceID: a.ID})
	require.NoError(t, err)
	require.NotNil(t, m.KeyRevokedAt)
	require.Len(t, notices.to(bobID), 1)
	require.Contains(t, notices.to(bobID)[0].Content, "Run /link with your new key")
	require.Len(t, notices.to(carolID), 1)
	require.Contains(t, notices.to(carolID)[0].Content, "refused your alliance key for **Rose**")
	require.Empty(t, notices.to(aliceID))
	var revoked []string
	for _, e := range b.auditActions(t) {
		if e.Action == "user.key_revoked" || e.Action == "alliance.key_revoked" {
			revoked = append(revoked, e.Action)
		}
	}
	require.ElementsMatch(t, []string{"user.key_revoked", "alliance.key_revoked"}, revoked)

	// A pass later that day asks about nothing again, and nobody is told twice.
	b.now = time.Now().Add(time.Hour)
	before := b.game.RequestsFor("me")
	got, err = b.deps.GameKeys.Verify(ctx)
	require.NoError(t, err)
	require.Equal(t, keys.Verified{}, got)
	require.Equal(t, before, b.game.RequestsFor("me"))
	require.Len(t, notices.to(bobID), 1)
	require.Len(t, notices.to(carolID), 1)
}
