package commands_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

// TestAllianceKeysFollowTheNation: an alliance key acts only for an
// alliance its nation is a member of. /unlink deletes the caller's alliance
// keys with their nation, and a manager whose nation left the alliance
// loses theirs within one role-sync pass (and in the daily key check),
// told once, audited.
func TestAllianceKeysFollowTheNation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const carolAllianceKey = "carolalliance0000000"
	// Rose with Alice its admin and Carol a manager, each with an alliance key.
	world := func(t *testing.T) (*testBundle, store.Alliance, *dmRecorder) {
		t.Helper()
		_, b := setup(t)
		a := b.setUp(t)
		b.game.AddKey(carolAllianceKey, carolNat, "alliance_view_bank")
		b.manage(t, a, carolID, access.Manager, nil)
		b.linkAllianceKey(t, a, carolID, carolAllianceKey, "alliance_view_bank")
		b.linkAllianceKey(t, a, aliceID, aliceKey, "alliance_view_bank")
		dms := &dmRecorder{}
		b.with(func(d *wiring) { d.Notices = dms })
		return b, a, dms
	}
	hasKey := func(t *testing.T, b *testBundle, a store.Alliance, discordID string) bool {
		t.Helper()
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, discordID).ID, AllianceID: a.ID})
		require.NoError(t, err, "still a manager")
		return m.ManagerApiKey != nil
	}
	// retired are the reasons of the audited retirements, newest first.
	retired := func(t *testing.T, b *testBundle, discordID string) []string {
		t.Helper()
		var out []string
		for _, r := range b.auditActions(t) {
			if r.Action == "alliance.key_retired" && r.Success && *r.UserID == b.user(t, discordID).ID {
				var v map[string]any
				require.NoError(t, json.Unmarshal(r.NewValues, &v))
				out = append(out, v["reason"].(string))
			}
		}
		return out
	}
	leaves := func(b *testBundle) {
		b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn"})
		b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", LeaderName: "Carol", AllianceID: thorn})
	}

	t.Run("Unlink", func(t *testing.T) {
		t.Parallel()
		b, a, _ := world(t)
		resp := b.reply(t, "unlink", "user", carolID)
		require.Contains(t, resp.Content, "key is deleted and your nation unlinked")
		require.Contains(t, resp.Content, "Your alliance key for Rose is deleted too")
		require.False(t, hasKey(t, b, a, carolID))
		require.True(t, hasKey(t, b, a, aliceID), "another manager's key stays")
		require.Equal(t, []string{"unlinked"}, retired(t, b, carolID))
	})

	t.Run("LeftTheAlliance", func(t *testing.T) {
		t.Parallel()
		b, a, dms := world(t)
		leaves(b)
		before := b.game.RequestsFor("me")
		_, err := b.deps.Roles.SyncAll(ctx)
		require.NoError(t, err)
		require.False(t, hasKey(t, b, a, carolID), "retired within one pass")
		require.True(t, hasKey(t, b, a, aliceID), "a member's key stays")
		require.Equal(t, before+1, b.game.RequestsFor("me"), "only the key of the manager off the member list is asked about")
		require.Equal(t, []string{"the key's nation is not a member of the alliance"}, retired(t, b, carolID))
		require.Len(t, dms.to(carolID), 1)
		require.Contains(t, dms.to(carolID)[0].Content, "no longer a member of **Rose**")
		require.Empty(t, dms.to(aliceID))

		// The next pass has nothing left to retire, and tells nobody again.
		_, err = b.deps.Roles.SyncAll(ctx)
		require.NoError(t, err)
		require.Len(t, dms.to(carolID), 1)
		require.Len(t, retired(t, b, carolID), 1)
	})

	t.Run("DailyCheck", func(t *testing.T) {
		t.Parallel()
		// The daily key check asks the game where each key's nation is,
		// not only what it may do.
		b, a, dms := world(t)
		leaves(b)
		b.now = time.Now().Add(25 * time.Hour)
		got, err := b.deps.GameKeys.Verify(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, got.Retired)
		require.False(t, hasKey(t, b, a, carolID))
		require.True(t, hasKey(t, b, a, aliceID))
		require.Len(t, dms.to(carolID), 1)
	})
}
