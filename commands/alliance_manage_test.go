package commands_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

const (
	guild      = "300000000000000001"
	otherGuild = "300000000000000002"
	carolID    = "200000000000000003"
	carolKey   = "carolkey000000000000"
	carolNat   = 1004
	thorn      = 88
)

// in serves an interaction in the alliance's server unless vars name
// another guild.
func (b *testBundle) in(t testing.TB, name string, vars ...string) (*bot.Response, error) {
	t.Helper()
	return b.serve(t, name, append(vars, "guild", guild)...)
}

// leads makes Alice the leader of Rose and links her.
func (b *testBundle) leads(t *testing.T) {
	t.Helper()
	b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "LEADER"})
	_, err := b.link(t, aliceID, aliceKey)
	require.NoError(t, err)
}

// setUp binds Rose to the server with Alice as its admin, and links Bob
// and Carol (members of Rose) without any role.
func (b *testBundle) setUp(t *testing.T) store.Alliance {
	t.Helper()
	b.leads(t)
	_, err := b.in(t, "alliance_setup")
	require.NoError(t, err)
	b.game.AddKey(carolKey, carolNat)
	b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", LeaderName: "Carol", AllianceID: rose})
	b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", LeaderName: "Bob", AllianceID: rose})
	_, err = b.link(t, bobID, bobKey)
	require.NoError(t, err)
	_, err = b.link(t, carolID, carolKey)
	require.NoError(t, err)
	a, err := b.st.AllianceGetByPnwID(context.Background(), rose)
	require.NoError(t, err)
	return a
}

// manage gives a user a role and overrides directly in the database.
func (b *testBundle) manage(t *testing.T, a store.Alliance, discordID, role string, overrides map[access.Permission]bool) {
	t.Helper()
	raw, err := json.Marshal(overrides)
	require.NoError(t, err)
	if overrides == nil {
		raw = []byte("{}")
	}
	u := b.user(t, discordID)
	_, err = b.st.AllianceManagerUpsert(context.Background(), store.AllianceManagerUpsertParams{UserID: u.ID, AllianceID: a.ID, Role: role, Permissions: raw})
	require.NoError(t, err)
}

func (b *testBundle) denials(t *testing.T) []store.AuditLog {
	t.Helper()
	action := "permission.denied"
	rows, err := b.st.AuditLogList(context.Background(), store.AuditLogListParams{Action: &action, RowLimit: 100})
	require.NoError(t, err)
	return rows
}

func TestAllianceSetup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("LeaderBindsServerAndBecomesAdmin", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.leads(t)
		resp, err := b.in(t, "alliance_setup")
		require.NoError(t, err)
		require.Contains(t, resp.Content, "Rose")
		a, err := b.st.AllianceGetByGuild(ctx, ptr(guild))
		require.NoError(t, err)
		require.EqualValues(t, rose, a.PnwAllianceID)
		require.Equal(t, "rose", a.RouteSlug)
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, aliceID).ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.Equal(t, access.Admin, m.Role)
		audit := b.auditActions(t)
		require.Equal(t, "alliance.setup", audit[0].Action)
		require.True(t, audit[0].Success)
		require.Equal(t, &a.ID, audit[0].AllianceID)
	})

	t.Run("HeirToo", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", AllianceID: rose, AlliancePosition: "HEIR"})
		_, err := b.link(t, aliceID, aliceKey)
		require.NoError(t, err)
		_, err = b.in(t, "alliance_setup")
		require.NoError(t, err)
	})

	t.Run("MemberRefused", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.link(t, aliceID, aliceKey) // Alice is an officer
		require.NoError(t, err)
		_, err = b.in(t, "alliance_setup")
		require.ErrorContains(t, err, "not the leader or heir")
		_, err = b.st.AllianceGetByPnwID(ctx, rose)
		require.ErrorIs(t, err, store.ErrNotFound, "nothing is created")
		audit := b.auditActions(t)
		require.Equal(t, "alliance.setup", audit[0].Action)
		require.False(t, audit[0].Success)
	})

	t.Run("StaleCacheRefused", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.leads(t)
		r, err := b.client.Nation(ctx, aliceNation) // the cache says she leads
		require.NoError(t, err)
		require.EqualValues(t, "LEADER", r.Data.AlliancePosition)
		b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", AllianceID: rose, AlliancePosition: "MEMBER"})
		_, err = b.in(t, "alliance_setup")
		require.ErrorContains(t, err, "not the leader or heir", "the game is asked, not the cache")
	})

	t.Run("NotLinkedRefused", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		_, err := b.in(t, "alliance_setup")
		require.ErrorContains(t, err, "/link")
		require.Zero(t, b.game.Requests())
	})

	t.Run("ServerBindsOneAlliance", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.setUp(t)
		b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn"})
		b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", AllianceID: thorn, AlliancePosition: "LEADER"})
		_, err := b.in(t, "alliance_setup", "user", bobID)
		require.ErrorContains(t, err, "already bound to Rose")
		_, err = b.st.AllianceGetByPnwID(ctx, thorn)
		require.Error(t, err)
	})

	t.Run("NewLeaderBecomesAdmin", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		_, err := b.in(t, "alliance_setup", "user", bobID)
		require.ErrorContains(t, err, "not the leader or heir")
		b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", AllianceID: rose, AlliancePosition: "LEADER"})
		_, err = b.in(t, "alliance_setup", "user", bobID)
		require.NoError(t, err)
		for _, u := range []string{aliceID, bobID} {
			m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, u).ID, AllianceID: a.ID})
			require.NoError(t, err)
			require.Equal(t, access.Admin, m.Role)
		}
	})

	t.Run("MoveIsConfirmed", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		resp, err := b.serve(t, "alliance_setup", "guild", otherGuild)
		require.NoError(t, err)
		require.Contains(t, resp.Content, "Move it to this one?")
		a2, err := b.st.AllianceGetByID(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, guild, *a2.DiscordGuildID, "nothing moves before the button")
		button := buttonID(t, resp, 0)

		_, err = b.serve(t, "alliance_button", "custom_id", button, "guild", otherGuild, "user", bobID)
		require.ErrorContains(t, err, "not the leader or heir", "only a leader confirms")

		resp, err = b.serve(t, "alliance_button", "custom_id", button, "guild", otherGuild)
		require.NoError(t, err)
		require.Equal(t, bot.TypeUpdate, resp.Type)
		a2, err = b.st.AllianceGetByID(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, otherGuild, *a2.DiscordGuildID)
		require.Equal(t, "alliance.move", b.auditActions(t)[0].Action)

		_, err = b.in(t, "alliance_managers_list")
		require.ErrorContains(t, err, "/alliance setup", "the old server has no alliance now")
	})
}

// TestAllianceSetupTakeover: once an alliance is set up, setup changes
// nothing unless the game's current leader runs it (an heir demoted in
// pnwbot cannot make themselves admin again), moving the binding needs the
// leader or an admin and keeps every role, and both need Discord's Manage
// Server in the server.
func TestAllianceSetupTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	memberOnly := strconv.FormatInt(fakediscord.MemberPermissions, 10)
	heir := func(b *testBundle) {
		b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", LeaderName: "Bob", AllianceID: rose, AlliancePosition: "HEIR"})
	}
	role := func(t *testing.T, b *testBundle, a store.Alliance, discordID string) store.AllianceManager {
		t.Helper()
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, discordID).ID, AllianceID: a.ID})
		require.NoError(t, err)
		return m
	}

	t.Run("NeedsManageServer", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.leads(t)
		_, err := b.in(t, "alliance_setup", "permissions", memberOnly)
		require.ErrorContains(t, err, "needs Discord's Manage Server permission")
		_, err = b.st.AllianceGetByPnwID(ctx, rose)
		require.ErrorIs(t, err, store.ErrNotFound, "nothing is created")
		require.Contains(t, string(b.denials(t)[0].NewValues), "discord:Manage Server")
		require.Zero(t, b.game.Requests()-1, "refused before asking the game (one request was /link's)")
	})

	t.Run("DemotedHeirCannotTakeItBack", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		heir(b)
		b.manage(t, a, bobID, access.Viewer, map[access.Permission]bool{access.ViewTrades: false})
		_, err := b.in(t, "alliance_setup", "user", bobID)
		require.ErrorContains(t, err, "only the game's current leader can run setup again")
		m := role(t, b, a, bobID)
		require.Equal(t, access.Viewer, m.Role, "still a viewer")
		require.JSONEq(t, `{"canViewTrades": false}`, string(m.Permissions), "overrides kept")
		audit := b.auditActions(t)[0]
		require.Equal(t, "alliance.setup", audit.Action)
		require.False(t, audit.Success)

		// The game's leader may: it restores the leader as admin.
		b.manage(t, a, aliceID, access.Viewer, nil)
		_, err = b.in(t, "alliance_setup")
		require.NoError(t, err)
		require.Equal(t, access.Admin, role(t, b, a, aliceID).Role)
	})

	t.Run("MoveNeedsLeaderOrAdmin", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		heir(b)
		b.manage(t, a, bobID, access.Manager, nil)
		_, err := b.serve(t, "alliance_setup", "user", bobID, "guild", otherGuild)
		require.ErrorContains(t, err, "only the game's leader or one of its admins in pnwbot can move it")
		require.Equal(t, "alliance.setup", b.auditActions(t)[0].Action)

		// An heir who is an admin may; the button needs Manage Server too.
		b.manage(t, a, bobID, access.Admin, map[access.Permission]bool{access.ManageBank: false})
		resp, err := b.serve(t, "alliance_setup", "user", bobID, "guild", otherGuild)
		require.NoError(t, err)
		button := buttonID(t, resp, 0)
		_, err = b.serve(t, "alliance_button", "custom_id", button, "guild", otherGuild, "user", bobID, "permissions", memberOnly)
		require.ErrorContains(t, err, "needs Discord's Manage Server permission")
		// Demoted before confirming: refused.
		b.manage(t, a, bobID, access.Manager, nil)
		_, err = b.serve(t, "alliance_button", "custom_id", button, "guild", otherGuild, "user", bobID)
		require.ErrorContains(t, err, "can move it")
		b.manage(t, a, bobID, access.Admin, map[access.Permission]bool{access.ManageBank: false})
		resp, err = b.serve(t, "alliance_button", "custom_id", button, "guild", otherGuild, "user", bobID)
		require.NoError(t, err)
		require.Contains(t, resp.Content, "keep their roles")
		a2, err := b.st.AllianceGetByID(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, otherGuild, *a2.DiscordGuildID)
		m := role(t, b, a, bobID)
		require.Equal(t, access.Admin, m.Role)
		require.JSONEq(t, `{"canManageBank": false}`, string(m.Permissions), "the mover's overrides are kept")
		require.Equal(t, access.Admin, role(t, b, a, aliceID).Role, "the leader keeps hers")
	})
}

// TestAlliancePermissionMatrix runs every view and settings subcommand
// as every role, with overrides both ways: allowed or denied, and every
// denial audited with what was missing.
func TestAlliancePermissionMatrix(t *testing.T) {
	t.Parallel()
	type subject struct {
		role      string // "" is not a manager
		overrides map[access.Permission]bool
	}
	subjects := map[string]subject{
		"nobody":                 {},
		"viewer":                 {role: access.Viewer},
		"manager":                {role: access.Manager},
		"admin":                  {role: access.Admin},
		"viewer+bank+audit":      {role: access.Viewer, overrides: map[access.Permission]bool{access.ViewBank: true, access.ViewAuditLog: true}},
		"manager+settings":       {role: access.Manager, overrides: map[access.Permission]bool{access.ManageSettings: true}},
		"admin-settings-members": {role: access.Admin, overrides: map[access.Permission]bool{access.ManageSettings: false, access.ViewMembers: false}},
	}
	commands := []struct {
		name string
		file string
		vars []string
		need access.Permission
	}{
		{"managers list", "alliance_managers_list", nil, access.ManageSettings},
		{"settings", "alliance_settings", nil, access.ManageSettings},
		{"audit", "alliance_audit", []string{"action", ""}, access.ViewAuditLog},
		{"members", "alliance_members", []string{"sort", "score", "filter", "all"}, access.ViewMembers},
		{"bank", "alliance_bank", nil, access.ViewBank},
		{"bank-history", "alliance_bank_history", []string{"nation", "", "limit", "50"}, access.ViewBank},
		{"taxes", "alliance_taxes", nil, access.ViewBank},
		{"wars", "alliance_wars", nil, access.ViewWars},
		{"trades", "alliance_trades", nil, access.ViewTrades},
	}
	_, b := setup(t)
	a := b.setUp(t)
	b.linkAllianceKey(t, a, aliceID, aliceKey, "alliance_view_bank")
	for name, s := range subjects {
		for _, c := range commands {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				if s.role == "" {
					_, err := b.st.AllianceManagerDeactivate(context.Background(), store.AllianceManagerDeactivateParams{UserID: b.user(t, bobID).ID, AllianceID: a.ID})
					require.NoError(t, err)
				} else {
					b.manage(t, a, bobID, s.role, s.overrides)
				}
				want := access.Effective(s.role, s.overrides)[c.need]
				before := len(b.denials(t))
				_, err := b.in(t, c.file, append(c.vars, "user", bobID)...)
				if want {
					require.NoError(t, err)
					require.Len(t, b.denials(t), before)
					return
				}
				require.ErrorContains(t, err, "you are missing "+string(c.need))
				denials := b.denials(t)
				require.Len(t, denials, before+1, "the denial is audited")
				require.False(t, denials[0].Success)
				require.Equal(t, &a.ID, denials[0].AllianceID)
				require.Contains(t, string(denials[0].NewValues), string(c.need))
			})
		}
	}
}

func TestAllianceManagers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	role := func(t *testing.T, b *testBundle, a store.Alliance, discordID string) string {
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, discordID).ID, AllianceID: a.ID})
		if err != nil {
			return ""
		}
		return m.Role
	}

	t.Run("AdminAddsChangesAndRemoves", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		resp, err := b.in(t, "alliance_managers_add", "target", bobID, "role", "viewer")
		require.NoError(t, err)
		require.Contains(t, resp.Content, "viewer of Rose")
		require.Equal(t, access.Viewer, role(t, b, a, bobID))

		_, err = b.in(t, "alliance_managers_add", "target", bobID, "role", "manager")
		require.ErrorContains(t, err, "already a viewer")

		_, err = b.in(t, "alliance_managers_permission", "target", bobID, "permission", "canViewBank", "value", "true")
		require.NoError(t, err)
		held, _, err := access.LoadAlliance(ctx, b.st, b.user(t, bobID).ID, a.ID)
		require.NoError(t, err)
		require.True(t, held[access.ViewBank])

		_, err = b.in(t, "alliance_managers_role", "target", bobID, "role", "manager")
		require.NoError(t, err)
		require.Equal(t, access.Manager, role(t, b, a, bobID))

		resp, err = b.in(t, "alliance_managers_list")
		require.NoError(t, err)
		text := embedText(resp.Embeds[0])
		require.Contains(t, text, "<@"+aliceID+"> · Admin")
		require.Contains(t, text, "<@"+bobID+"> · Manager")

		_, err = b.in(t, "alliance_managers_remove", "target", bobID)
		require.NoError(t, err)
		require.Empty(t, role(t, b, a, bobID))

		var actions []string
		for _, l := range b.auditActions(t)[:4] {
			require.True(t, l.Success)
			actions = append(actions, l.Action)
		}
		require.Equal(t, []string{"alliance.manager_remove", "alliance.manager_role", "alliance.manager_permission", "alliance.manager_add"}, actions)
	})

	t.Run("NobodyGrantsWhatTheyDoNotHold", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		b.manage(t, a, bobID, access.Manager, map[access.Permission]bool{access.ManageSettings: true})
		as := func(file string, vars ...string) error {
			_, err := b.in(t, file, append(vars, "user", bobID)...)
			return err
		}
		err := as("alliance_managers_add", "target", carolID, "role", "admin")
		require.ErrorContains(t, err, "missing canManageMembers, canManageBank")
		require.Empty(t, role(t, b, a, carolID))

		require.NoError(t, as("alliance_managers_add", "target", carolID, "role", "viewer"))
		err = as("alliance_managers_permission", "target", carolID, "permission", "canManageBank", "value", "true")
		require.ErrorContains(t, err, "missing canManageBank")

		err = as("alliance_managers_remove", "target", aliceID)
		require.ErrorContains(t, err, "missing canManageMembers", "nobody takes from someone above them")
		err = as("alliance_managers_permission", "target", bobID, "permission", "canManageBank", "value", "true")
		require.ErrorContains(t, err, "missing canManageBank", "nor grants themselves")
		require.Equal(t, access.Admin, role(t, b, a, aliceID))
		require.GreaterOrEqual(t, len(b.denials(t)), 4)
	})

	t.Run("LastAdminKept", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		_, err := b.in(t, "alliance_managers_remove", "target", aliceID)
		require.ErrorContains(t, err, "at least one admin")
		_, err = b.in(t, "alliance_managers_role", "target", aliceID, "role", "manager")
		require.ErrorContains(t, err, "at least one admin")
		_, err = b.in(t, "alliance_managers_permission", "target", aliceID, "permission", "canManageSettings", "value", "false")
		require.ErrorContains(t, err, "at least one admin")
		require.Equal(t, access.Admin, role(t, b, a, aliceID))
		refused := b.auditActions(t)[0]
		require.False(t, refused.Success)
		require.Equal(t, "alliance.manager_permission", refused.Action)

		_, err = b.in(t, "alliance_managers_add", "target", bobID, "role", "admin")
		require.NoError(t, err)
		_, err = b.in(t, "alliance_managers_remove", "target", aliceID)
		require.NoError(t, err, "another admin remains")
		require.Empty(t, role(t, b, a, aliceID))
	})

	t.Run("TargetNeedsAnAccount", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.setUp(t)
		_, err := b.in(t, "alliance_managers_add", "target", "200000000000000099", "role", "viewer")
		require.ErrorContains(t, err, "no pnwbot account")
	})

	t.Run("OutsideTheServer", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.setUp(t)
		_, err := b.serve(t, "alliance_managers_list", "guild", otherGuild)
		require.ErrorContains(t, err, "no alliance yet")
	})
}

func TestAllianceSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	a := b.setUp(t)

	resp, err := b.in(t, "alliance_settings")
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "`rose`")

	_, err = b.in(t, "alliance_settings_public", "public", "true")
	require.NoError(t, err)
	_, err = b.in(t, "alliance_settings_slug", "slug", "the-rose")
	require.NoError(t, err)
	got, err := b.st.AllianceGetByID(ctx, a.ID)
	require.NoError(t, err)
	require.True(t, got.IsPublic, "changing the slug keeps the public flag")
	require.Equal(t, "the-rose", got.RouteSlug)

	for _, bad := range []string{"-rose", "ro--se", "rosé", "a b"} {
		_, err = b.in(t, "alliance_settings_slug", "slug", bad)
		require.ErrorContains(t, err, "Nothing was changed", bad)
	}
	_, err = b.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: thorn, Name: "Thorn", RouteSlug: "thorn"})
	require.NoError(t, err)
	_, err = b.in(t, "alliance_settings_slug", "slug", "thorn")
	require.ErrorContains(t, err, "taken")
	got, err = b.st.AllianceGetByID(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "the-rose", got.RouteSlug)

	audit := b.auditActions(t)
	require.Equal(t, "alliance.settings", audit[0].Action)
	require.JSONEq(t, `{"is_public": true, "route_slug": "rose"}`, string(audit[0].OldValues))
	require.JSONEq(t, `{"is_public": true, "route_slug": "the-rose"}`, string(audit[0].NewValues))
}

func TestAllianceAudit(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	a := b.setUp(t)
	for _, u := range []string{bobID, carolID} {
		_, err := b.in(t, "alliance_managers_add", "target", u, "role", "viewer")
		require.NoError(t, err)
	}
	for range 8 {
		_, err := b.in(t, "alliance_settings_public", "public", "true")
		require.NoError(t, err)
	}

	resp, err := b.in(t, "alliance_audit", "action", "alliance.manager_add")
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "alliance.manager_add")
	require.NotContains(t, text, "alliance.settings")
	require.Nil(t, resp.Components, "one page")

	resp, err = b.in(t, "alliance_audit", "action", "")
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "alliance.settings")
	require.NotContains(t, embedText(resp.Embeds[0]), "alliance.setup", "the oldest rows are on the next page")
	next := buttonID(t, resp, 1)

	_, err = b.in(t, "alliance_button", "custom_id", next, "user", bobID)
	require.ErrorContains(t, err, "Only the person who ran this command")

	resp, err = b.in(t, "alliance_button", "custom_id", next)
	require.NoError(t, err)
	require.Equal(t, bot.TypeUpdate, resp.Type)
	require.Contains(t, embedText(resp.Embeds[0]), "alliance.setup")
	require.Contains(t, embedText(resp.Embeds[0]), "Page 2")

	// A page is checked like the command: a removed manager turns no page.
	b.manage(t, a, bobID, access.Viewer, nil)
	_, err = b.in(t, "alliance_audit", "action", "", "user", bobID)
	require.ErrorContains(t, err, "missing canViewAuditLog")
}

func ptr[T any](v T) *T { return &v }

// buttonID is the custom_id of a response's n-th button.
func buttonID(t *testing.T, resp *bot.Response, n int) string {
	t.Helper()
	require.NotEmpty(t, resp.Components)
	return resp.Components[0].(discordgo.ActionsRow).Components[n].(discordgo.Button).CustomID
}
