package access_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestPresets is the permission matrix of the roles: every role against
// every permission.
func TestPresets(t *testing.T) {
	t.Parallel()
	all := access.Permissions
	want := map[string][]access.Permission{
		access.Viewer:  {access.ViewMembers, access.ViewWars, access.ViewTrades},
		access.Manager: {access.ViewMembers, access.ViewBank, access.ViewWars, access.ViewTrades, access.ViewAuditLog},
		access.Admin:   all,
		"":             nil,
		"owner":        nil,
	}
	for role, granted := range want {
		for _, p := range all {
			held := false
			for _, g := range granted {
				held = held || g == p
			}
			require.Equal(t, held, access.Preset(role)[p], "%q %s", role, p)
		}
	}
	require.Len(t, all, 8)
}

func TestEffective(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		role      string
		overrides map[access.Permission]bool
		need      []access.Permission
		missing   []access.Permission
	}{
		{"viewer sees members", access.Viewer, nil, []access.Permission{access.ViewMembers}, nil},
		{"viewer lacks the bank", access.Viewer, nil, []access.Permission{access.ViewBank, access.ViewMembers}, []access.Permission{access.ViewBank}},
		{"viewer granted the bank", access.Viewer, map[access.Permission]bool{access.ViewBank: true}, []access.Permission{access.ViewBank}, nil},
		{"manager lacks settings", access.Manager, nil, []access.Permission{access.ManageSettings}, []access.Permission{access.ManageSettings}},
		{"manager granted settings", access.Manager, map[access.Permission]bool{access.ManageSettings: true}, []access.Permission{access.ManageSettings}, nil},
		{"admin denied the bank", access.Admin, map[access.Permission]bool{access.ManageBank: false}, []access.Permission{access.ViewBank, access.ManageBank}, []access.Permission{access.ManageBank}},
		{"unknown overrides ignored", access.Viewer, map[access.Permission]bool{"canEverything": true}, []access.Permission{"canEverything"}, []access.Permission{"canEverything"}},
		{"missing listed once, in order", access.Viewer, nil, []access.Permission{access.ManageBank, access.ViewBank, access.ManageBank}, []access.Permission{access.ManageBank, access.ViewBank}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.missing, access.Effective(tc.role, tc.overrides).Missing(tc.need...))
		})
	}
}

// TestLoadAlliance: what a manager may do is read from the database on each
// request, so a change counts at once.
func TestLoadAlliance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	u, err := st.UserCreate(ctx, store.UserCreateParams{DiscordID: "1", KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	a, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 7, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)

	missing := check(t, st, u.ID, a.ID, access.Alliance(access.ViewMembers))
	require.Equal(t, []string{"canViewMembers"}, missing, "not a manager")

	m, err := st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: u.ID, AllianceID: a.ID, Role: access.Viewer,
		Permissions: []byte(`{"canViewBank": true, "canViewWars": false}`)})
	require.NoError(t, err)
	missing = check(t, st, u.ID, a.ID, access.Alliance(access.ViewMembers, access.ViewBank, access.ViewWars))
	require.Equal(t, []string{"canViewWars"}, missing, "overrides apply both ways")

	_, err = st.AllianceManagerUpdate(ctx, store.AllianceManagerUpdateParams{ID: m.ID, Role: access.Admin, Permissions: []byte(`{}`)})
	require.NoError(t, err)
	missing = check(t, st, u.ID, a.ID, access.Alliance(access.Permissions...))
	require.Empty(t, missing, "a new role counts at once")

	_, err = st.AllianceManagerDeactivate(ctx, store.AllianceManagerDeactivateParams{UserID: u.ID, AllianceID: a.ID})
	require.NoError(t, err)
	missing = check(t, st, u.ID, a.ID, access.Alliance(access.ViewMembers))
	require.NotEmpty(t, missing, "a removed manager holds nothing")

	other, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 8, Name: "Thorn", RouteSlug: "thorn"})
	require.NoError(t, err)
	_, err = st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: u.ID, AllianceID: other.ID, Role: access.Admin, Permissions: []byte(`{}`)})
	require.NoError(t, err)
	missing = check(t, st, u.ID, a.ID, access.Alliance(access.ViewMembers))
	require.NotEmpty(t, missing, "managing one alliance grants nothing in another")
}

// check loads what the user holds of need once, as a front door does per
// request, and returns what Check finds missing.
func check(t *testing.T, db access.DB, userID, allianceID int64, need access.Need) []string {
	t.Helper()
	p, err := access.Load(context.Background(), db, userID, []byte(`{}`), allianceID, need)
	require.NoError(t, err)
	var d *access.Denied
	if err := access.Check(need, p); err != nil {
		require.ErrorAs(t, err, &d)
		return d.Missing
	}
	return nil
}

// TestCheck: each kind of Need against what is held, and a caller without
// an account, who holds nothing.
func TestCheck(t *testing.T) {
	t.Parallel()
	member, err := access.MemberOf([]byte(`{"canViewOwnData": true, "canLinkApiKey": false}`))
	require.NoError(t, err)
	p := access.Perms{Member: member, Alliance: access.Preset(access.Manager), System: access.SystemPreset(access.LevelAdmin)}
	for _, tc := range []struct {
		need    access.Need
		missing []string
	}{
		{access.Account, nil},
		{access.Member(access.ViewOwnData), nil},
		{access.Member(access.LinkAPIKey), []string{"canLinkApiKey"}},
		{access.Member(access.DeleteAccount), []string{"canDeleteAccount"}},
		{access.Alliance(access.ViewBank), nil},
		{access.Alliance(access.ManageBank, access.ViewBank, access.ManageSettings), []string{"canManageBank", "canManageSettings"}},
		{access.System(access.ManageSystem), nil},
		{access.System(access.ManageAdmins), []string{"canManageAdmins"}},
	} {
		err := access.Check(tc.need, p)
		if tc.missing == nil {
			require.NoError(t, err, tc.need)
			continue
		}
		var d *access.Denied
		require.ErrorAs(t, err, &d, tc.need)
		require.Equal(t, tc.missing, d.Missing)
	}
	err = access.Check(access.Alliance(access.ViewMembers, access.ViewBank), access.Perms{})
	require.EqualError(t, err, "missing canViewMembers, canViewBank")
}

// TestChanged: only the overrides that differ from the preset are shown,
// in the order of the permissions.
func TestChanged(t *testing.T) {
	t.Parallel()
	o := map[access.Permission]bool{access.ManageBank: true, access.ViewMembers: true, access.ViewWars: false}
	require.Equal(t, []string{"+canManageBank", "−canViewWars"}, access.Changed(access.Viewer, o), "a viewer sees members anyway")
	so := map[access.SystemPermission]bool{access.ManageAdmins: true, access.ManageUsers: true}
	require.Equal(t, []string{"+canManageAdmins"}, access.SystemChanged(access.LevelAdmin, so))
	require.Empty(t, access.SystemChanged(access.LevelSuperAdmin, so), "a super admin holds everything")
}

// TestCheckManagerChange: nobody grants, or takes from someone above them,
// what they do not hold, and an alliance keeps an admin who may manage its
// settings.
func TestCheckManagerChange(t *testing.T) {
	t.Parallel()
	admin := &access.Standing{Role: access.Admin}
	settings := &access.Standing{Role: access.Manager, Overrides: map[access.Permission]bool{access.ManageSettings: true}}
	viewer := &access.Standing{Role: access.Viewer}
	const alice, bob, carol = 1, 2, 3
	for _, tc := range []struct {
		name     string
		managers map[int64]*access.Standing
		actor    int64
		target   int64
		after    *access.Standing
		missing  []string // a *Denied naming these, or
		last     bool     // ErrLastAdmin
	}{
		{"admin adds a viewer", map[int64]*access.Standing{alice: admin}, alice, bob, viewer, nil, false},
		{"viewer may not add", map[int64]*access.Standing{alice: admin, bob: viewer}, bob, carol, viewer, []string{"canManageSettings"}, false},
		{"no granting what one lacks", map[int64]*access.Standing{alice: admin, bob: settings}, bob, carol, admin,
			[]string{"canManageMembers", "canManageBank"}, false},
		{"no taking from someone above", map[int64]*access.Standing{alice: admin, bob: settings}, bob, alice, nil,
			[]string{"canManageMembers", "canManageBank"}, false},
		{"the last admin stays", map[int64]*access.Standing{alice: admin}, alice, alice, viewer, nil, true},
		{"an admin leaves another", map[int64]*access.Standing{alice: admin, bob: admin}, alice, alice, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := access.CheckManagerChange(tc.managers, tc.actor, tc.target, tc.after)
			var denied *access.Denied
			switch {
			case tc.missing != nil:
				require.ErrorAs(t, err, &denied)
				require.Equal(t, tc.missing, denied.Missing)
			case tc.last:
				require.ErrorIs(t, err, access.ErrLastAdmin)
			default:
				require.NoError(t, err)
			}
		})
	}
}
