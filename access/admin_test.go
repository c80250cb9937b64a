package access_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// auditRows returns the audit log oldest first.
func auditRows(t *testing.T, st *store.Store) []store.AuditLog {
	t.Helper()
	rows, err := st.AuditLogList(context.Background(), store.AuditLogListParams{RowLimit: 100})
	require.NoError(t, err)
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows
}

func newUser(t *testing.T, st *store.Store, discordID string) store.User {
	t.Helper()
	u, err := st.UserCreate(context.Background(), store.UserCreateParams{DiscordID: discordID, KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	return u
}

func values(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

// TestAssignAndUnassign: a system admin makes anyone a manager (a role
// change keeps the overrides), removes them, and never removes the
// alliance's last admin; each change and the refusal are audited.
func TestAssignAndUnassign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	c := access.Changes{Log: audit.Log{Store: st}}
	root, alice, bob := newUser(t, st, "1"), newUser(t, st, "2"), newUser(t, st, "3")
	a, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 7, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	manager := func(u store.User) store.AllianceManager {
		m, err := st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: a.ID})
		require.NoError(t, err)
		return m
	}

	require.NoError(t, c.Assign(ctx, root.ID, a, alice.ID, access.Admin))
	m := manager(alice)
	require.Equal(t, access.Admin, m.Role)
	require.Equal(t, root.ID, *m.AssignedBy)

	// The only admin stays, and the refusal is audited.
	require.ErrorIs(t, c.Unassign(ctx, root.ID, a, alice.ID), access.ErrLastAdmin)
	require.Equal(t, access.Admin, manager(alice).Role)

	require.NoError(t, c.Assign(ctx, root.ID, a, bob.ID, access.Admin))
	_, err = st.AllianceManagerUpdate(ctx, store.AllianceManagerUpdateParams{ID: manager(bob).ID, Role: access.Admin, Permissions: []byte(`{"canViewWars": false}`)})
	require.NoError(t, err)
	require.NoError(t, c.Assign(ctx, root.ID, a, bob.ID, access.Manager))
	m = manager(bob)
	require.Equal(t, access.Manager, m.Role)
	require.JSONEq(t, `{"canViewWars": false}`, string(m.Permissions), "a new role keeps the overrides")

	// Bob is no admin: Alice is still the last one.
	require.ErrorIs(t, c.Unassign(ctx, root.ID, a, alice.ID), access.ErrLastAdmin)
	require.NoError(t, c.Unassign(ctx, root.ID, a, bob.ID))
	_, err = st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: bob.ID, AllianceID: a.ID})
	require.ErrorIs(t, err, store.ErrNotFound, "removed")
	require.ErrorIs(t, c.Unassign(ctx, root.ID, a, bob.ID), access.ErrNotManager)
	require.NoError(t, c.Assign(ctx, root.ID, a, bob.ID, access.Viewer))
	require.Equal(t, access.Viewer, manager(bob).Role, "a removed manager comes back")

	rows := auditRows(t, st)
	require.Len(t, rows, 7)
	want := []struct {
		action string
		target store.User
		failed bool
		old    map[string]any
		new    map[string]any
	}{
		{"admin.assign", alice, false, nil, map[string]any{"role": "admin"}},
		{"admin.unassign", alice, true, nil, map[string]any{"reason": "last admin"}},
		{"admin.assign", bob, false, nil, map[string]any{"role": "admin"}},
		{"admin.assign", bob, false, map[string]any{"role": "admin"}, map[string]any{"role": "manager"}},
		{"admin.unassign", alice, true, nil, map[string]any{"reason": "last admin"}},
		{"admin.unassign", bob, false, map[string]any{"role": "manager"}, nil},
		{"admin.assign", bob, false, nil, map[string]any{"role": "viewer"}},
	}
	for i, w := range want {
		r := rows[i]
		require.Equal(t, w.action, r.Action, i)
		require.Equal(t, "alliance_manager", r.ResourceType, i)
		require.Equal(t, strconv.FormatInt(w.target.ID, 10), r.ResourceID, i)
		require.Equal(t, root.ID, *r.UserID, i)
		require.Equal(t, a.ID, *r.AllianceID, i)
		require.Equal(t, !w.failed, r.Success, i)
		if w.old == nil {
			require.Empty(t, r.OldValues, i)
		} else {
			require.Equal(t, w.old, values(t, r.OldValues), i)
		}
		if w.new == nil {
			require.Empty(t, r.NewValues, i)
		} else {
			require.Equal(t, w.new, values(t, r.NewValues), i)
		}
	}
}

// TestSetMemberPermission: one member permission changes, the others and
// unknown keys stay; setting what is already so writes nothing.
func TestSetMemberPermission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	c := access.Changes{Log: audit.Log{Store: st}}
	root, alice := newUser(t, st, "1"), newUser(t, st, "2")
	alice, err := st.AdminUserSetPermissions(ctx, store.AdminUserSetPermissionsParams{ID: alice.ID,
		Permissions: []byte(`{"canViewOwnData": true, "canLinkApiKey": true, "someday": true}`)})
	require.NoError(t, err)

	require.ErrorIs(t, c.SetMemberPermission(ctx, root.ID, alice, access.LinkAPIKey, true), access.ErrUnchanged)
	require.ErrorIs(t, c.SetMemberPermission(ctx, root.ID, alice, access.DeleteAccount, false), access.ErrUnchanged, "absent is lacked")
	require.Empty(t, auditRows(t, st))

	require.NoError(t, c.SetMemberPermission(ctx, root.ID, alice, access.LinkAPIKey, false))
	u, err := st.UserGetByID(ctx, alice.ID)
	require.NoError(t, err)
	require.JSONEq(t, `{"canViewOwnData": true, "canLinkApiKey": false, "someday": true}`, string(u.Permissions))
	rows := auditRows(t, st)
	require.Len(t, rows, 1)
	r := rows[0]
	require.Equal(t, "admin.user_permission", r.Action)
	require.Equal(t, "user_permissions", r.ResourceType)
	require.Equal(t, strconv.FormatInt(alice.ID, 10), r.ResourceID)
	require.Equal(t, root.ID, *r.UserID)
	require.Equal(t, map[string]any{"canLinkApiKey": true}, values(t, r.OldValues))
	require.Equal(t, map[string]any{"canLinkApiKey": false}, values(t, r.NewValues))
}
