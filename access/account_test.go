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
