package access_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestCreateAccountConcurrently: first contacts of one Discord user at
// once make one account, which each of them gets, and one user.create row.
func TestCreateAccountConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	c := access.Changes{Log: audit.Log{Store: st}}
	const n = 8
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			u, err := c.CreateAccount(ctx, "200000000000000001", "alice")
			ids[i], errs[i] = u.ID, err
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, ids[0], ids[i], "one account")
	}
	u, err := st.UserGetByDiscordID(ctx, "200000000000000001")
	require.NoError(t, err)
	require.Equal(t, ids[0], u.ID)
	require.Equal(t, "alice", u.DiscordUsername)

	again, err := c.CreateAccount(ctx, "200000000000000001", "alice")
	require.NoError(t, err)
	require.Equal(t, u.ID, again.ID, "an account made before is returned")

	rows := auditRows(t, st)
	require.Len(t, rows, 1)
	require.Equal(t, "user.create", rows[0].Action)
	require.Equal(t, "user", rows[0].ResourceType)
	require.Equal(t, strconv.FormatInt(u.ID, 10), rows[0].ResourceID)
	require.Equal(t, u.ID, *rows[0].UserID)
}

func TestPreferencesOf(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]access.Preferences{
		`{}`: {AuditReminders: true, ShareNation: true},
		`{"private": true, "audit_reminders": false, "share_nation": false}`: {Private: true},
		`{"audit_reminders": null, "share_nation": "no", "theme": "dark"}`:   {AuditReminders: true, ShareNation: true},
	} {
		require.Equal(t, want, access.PreferencesOf([]byte(raw)), raw)
	}
}

// TestSetPreferences: the preferences are stored over the keys this
// version does not know, and audited with what they were.
func TestSetPreferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	c := access.Changes{Log: audit.Log{Store: st}}
	u := newUser(t, st, "1")
	u, err := st.UserSetPreferences(ctx, store.UserSetPreferencesParams{ID: u.ID, Preferences: []byte(`{"share_nation": false, "theme": "dark"}`)})
	require.NoError(t, err)

	require.NoError(t, c.SetPreferences(ctx, u, access.Preferences{Private: true, AuditReminders: false, ShareNation: false}))
	stored, err := st.UserGetByID(ctx, u.ID)
	require.NoError(t, err)
	require.JSONEq(t, `{"private": true, "audit_reminders": false, "share_nation": false, "theme": "dark"}`, string(stored.Preferences))

	rows := auditRows(t, st)
	require.Len(t, rows, 1)
	r := rows[0]
	require.Equal(t, "user.preferences", r.Action)
	require.Equal(t, "user", r.ResourceType)
	require.Equal(t, strconv.FormatInt(u.ID, 10), r.ResourceID)
	require.Equal(t, u.ID, *r.UserID)
	require.JSONEq(t, `{"private": false, "audit_reminders": true, "share_nation": false}`, string(r.OldValues))
	require.JSONEq(t, `{"private": true, "audit_reminders": false, "share_nation": false}`, string(r.NewValues))
}

// TestDeleteAccount: the only admin of an alliance keeps their account
// (the refusal audited); anyone else's goes, audited without their name.
func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	c := access.Changes{Log: audit.Log{Store: st}}
	alice, bob := newUser(t, st, "1"), newUser(t, st, "2")
	a, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 7, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	require.NoError(t, c.Assign(ctx, bob.ID, a, alice.ID, access.Admin))
	require.NoError(t, c.Assign(ctx, alice.ID, a, bob.ID, access.Manager))

	var sole *access.SoleAdmin
	require.ErrorAs(t, c.DeleteAccount(ctx, alice), &sole)
	require.Equal(t, []string{"Rose"}, sole.Alliances)
	_, err = st.UserGetByID(ctx, alice.ID)
	require.NoError(t, err, "the account stays")

	require.NoError(t, c.DeleteAccount(ctx, bob))
	_, err = st.UserGetByID(ctx, bob.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, c.DeleteAccount(ctx, bob), store.ErrNotFound)

	rows := auditRows(t, st)
	require.Len(t, rows, 4) // two assigns, the refusal, the deletion
	refused, deleted := rows[2], rows[3]
	require.Equal(t, "user.delete", refused.Action)
	require.False(t, refused.Success)
	require.Equal(t, alice.ID, *refused.UserID)
	require.JSONEq(t, `{"reason": "last admin", "alliances": ["Rose"]}`, string(refused.NewValues))
	require.Equal(t, "user.delete", deleted.Action)
	require.True(t, deleted.Success)
	require.Nil(t, deleted.UserID, "the deleted user is not named")
	require.Equal(t, "account", deleted.ResourceType)
	require.Equal(t, strconv.FormatInt(bob.ID, 10), deleted.ResourceID)
	require.JSONEq(t, `{"linked_nation": false}`, string(deleted.OldValues))
}
