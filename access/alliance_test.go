package access_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{" The-Rose ": "the-rose", "rose2": "rose2", strings.Repeat("a", 64): strings.Repeat("a", 64)} {
		got, err := access.Slug(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"", "the rose", "-rose", "rose-", "the--rose", "rosé", strings.Repeat("a", 65)} {
		_, err := access.Slug(bad)
		require.ErrorIs(t, err, access.ErrBadSlug, bad)
	}
}

// TestSetPage: an alliance's pages go public at a slug of its own,
// audited; another alliance's slug is refused and changes nothing.
func TestSetPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	c := access.Changes{Log: audit.Log{Store: st}}
	alice := newUser(t, st, "1")
	rose, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 7, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	_, err = st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 8, Name: "Thorn", RouteSlug: "thorn"})
	require.NoError(t, err)

	after, err := c.SetPage(ctx, alice.ID, rose, true, "The-Rose")
	require.NoError(t, err)
	require.True(t, after.IsPublic)
	require.Equal(t, "the-rose", after.RouteSlug)
	stored, err := st.AllianceGetByID(ctx, rose.ID)
	require.NoError(t, err)
	require.Equal(t, after.RouteSlug, stored.RouteSlug)
	require.True(t, stored.IsPublic)

	_, err = c.SetPage(ctx, alice.ID, after, false, "thorn")
	require.ErrorIs(t, err, access.ErrSlugTaken)
	_, err = c.SetPage(ctx, alice.ID, after, false, "the rose")
	require.ErrorIs(t, err, access.ErrBadSlug)
	stored, err = st.AllianceGetByID(ctx, rose.ID)
	require.NoError(t, err)
	require.True(t, stored.IsPublic, "a refusal changes nothing")

	rows := auditRows(t, st)
	require.Len(t, rows, 1)
	r := rows[0]
	require.Equal(t, "alliance.settings", r.Action)
	require.Equal(t, "alliance", r.ResourceType)
	require.Equal(t, strconv.Itoa(7), r.ResourceID)
	require.Equal(t, alice.ID, *r.UserID)
	require.Equal(t, rose.ID, *r.AllianceID)
	require.Equal(t, map[string]any{"is_public": false, "route_slug": "rose"}, values(t, r.OldValues))
	require.Equal(t, map[string]any{"is_public": true, "route_slug": "the-rose"}, values(t, r.NewValues))
}

// TestSetupAndMove: the game's leader or heir sets an alliance up and
// becomes its admin; only the leader runs setup again; an alliance bound
// elsewhere is moved after a confirmation, by its leader or an admin, and
// keeps its roles and slug; a server binds one alliance. Every change and
// every refusal is audited, and a refusal writes nothing else.
func TestSetupAndMove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	c := access.Changes{Log: audit.Log{Store: st}}
	alice, bob, carol := newUser(t, st, "1"), newUser(t, st, "2"), newUser(t, st, "3")
	const guild1, guild2, guild3 = "300000000000000001", "300000000000000002", "300000000000000003"
	// "the-rose" is taken: the new alliance's slug carries its game id.
	_, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 8, Name: "Other", RouteSlug: "the-rose"})
	require.NoError(t, err)
	leader := access.Leader{AllianceID: 7, Name: "The Rose!", Acronym: "TR", Position: pnw.AlliancePositionEnumLEADER}
	heir := leader
	heir.Position = pnw.AlliancePositionEnumHEIR

	for _, l := range []access.Leader{{Position: pnw.AlliancePositionEnumNOALLIANCE}, {AllianceID: 7, Position: pnw.AlliancePositionEnumOFFICER}} {
		_, err = c.Setup(ctx, carol.ID, l, guild1)
		require.ErrorIs(t, err, access.ErrNotEligible)
	}
	a, err := c.Setup(ctx, alice.ID, leader, guild1)
	require.NoError(t, err)
	require.Equal(t, "the-rose-7", a.RouteSlug)
	require.Equal(t, guild1, *a.DiscordGuildID)
	m, err := st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: alice.ID, AllianceID: a.ID})
	require.NoError(t, err)
	require.Equal(t, access.Admin, m.Role)
	require.Equal(t, alice.ID, *m.AssignedBy)

	// Demoted meanwhile, Alice as heir may neither run setup again (it
	// would make her admin again) nor move it.
	_, err = st.AllianceManagerUpdate(ctx, store.AllianceManagerUpdateParams{ID: m.ID, Role: access.Manager, Permissions: []byte(`{}`)})
	require.NoError(t, err)
	_, err = c.Setup(ctx, alice.ID, heir, guild1)
	require.ErrorIs(t, err, access.ErrSetUpAlready)
	_, err = c.Setup(ctx, alice.ID, heir, guild2)
	require.ErrorIs(t, err, access.ErrMayNotMove)
	_, err = c.Move(ctx, alice.ID, heir, guild2)
	require.ErrorIs(t, err, access.ErrMayNotMove)
	// As the game's leader she is asked to confirm, then moves it: her
	// role stays as it is.
	asked, err := c.Setup(ctx, alice.ID, leader, guild2)
	require.ErrorIs(t, err, access.ErrBoundElsewhere)
	require.Equal(t, guild1, *asked.DiscordGuildID, "nothing moves before the confirmation")
	moved, err := c.Move(ctx, alice.ID, leader, guild2)
	require.NoError(t, err)
	require.Equal(t, a.ID, moved.ID)
	require.Equal(t, guild2, *moved.DiscordGuildID)
	require.Equal(t, "the-rose-7", moved.RouteSlug, "an alliance keeps its slug")
	m, err = st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: alice.ID, AllianceID: a.ID})
	require.NoError(t, err)
	require.Equal(t, access.Manager, m.Role)

	// Another alliance in guild-2 is refused, and is not made.
	thorn := access.Leader{AllianceID: 9, Name: "Thorn", Position: pnw.AlliancePositionEnumHEIR}
	bound, err := c.Setup(ctx, bob.ID, thorn, guild2)
	require.ErrorIs(t, err, access.ErrServerBound)
	require.Equal(t, a.ID, bound.ID, "the refusal names the alliance bound there")
	_, err = st.AllianceGetByPnwID(ctx, 9)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = c.Move(ctx, bob.ID, thorn, guild2)
	require.ErrorIs(t, err, store.ErrNotFound, "no alliance to move")
	// Set up in guild-3, Thorn cannot be moved onto Rose's server.
	_, err = c.Setup(ctx, bob.ID, thorn, guild3)
	require.NoError(t, err)
	_, err = c.Move(ctx, bob.ID, thorn, guild2)
	require.ErrorIs(t, err, access.ErrGuildTaken)

	rows := auditRows(t, st)
	var got [][3]string
	for _, r := range rows {
		reason, _ := values(t, r.NewValues)["reason"].(string)
		got = append(got, [3]string{r.Action, r.ResourceID, reason})
		require.Equal(t, reason != "", !r.Success, "refusals, and only they, are failed rows")
	}
	require.Equal(t, [][3]string{
		{"alliance.setup", "0", "not leader or heir"},
		{"alliance.setup", "7", "not leader or heir"},
		{"alliance.setup", "7", ""},
		{"alliance.setup", "7", "set up already: not the leader"},
		{"alliance.setup", "7", "move: neither the leader nor an admin"},
		{"alliance.setup", "7", "move: neither the leader nor an admin"},
		{"alliance.move", "7", ""},
		{"alliance.setup", "9", "server bound to another alliance"},
		{"alliance.setup", "9", ""},
	}, got)
	require.Equal(t, map[string]any{"guild_id": guild1, "route_slug": "the-rose-7", "admin": float64(alice.ID), "position": "LEADER"},
		values(t, rows[2].NewValues))
	require.Equal(t, alice.ID, *rows[2].UserID)
	require.Equal(t, a.ID, *rows[2].AllianceID)
	require.Equal(t, "HEIR", values(t, rows[3].NewValues)["position"])
	require.Equal(t, map[string]any{"guild_id": guild1}, values(t, rows[6].OldValues))
	require.Equal(t, guild2, values(t, rows[6].NewValues)["guild_id"])
}
