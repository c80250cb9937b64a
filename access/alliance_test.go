package access_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/audit"
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

// TestBind: setup makes the alliance's row with a free slug, binds it to
// the server and makes the leader admin; a move to another server keeps
// every role; a server holds one alliance. Each bind is audited.
func TestBind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewDB(t)
	c := access.Changes{Log: audit.Log{Store: st}}
	alice, bob := newUser(t, st, "1"), newUser(t, st, "2")
	// "the-rose" is taken: the new alliance's slug carries its game id.
	_, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 8, Name: "Other", RouteSlug: "the-rose"})
	require.NoError(t, err)
	lead := access.Leader{AllianceID: 7, Name: "The Rose!", Acronym: "TR", Position: "LEADER"}

	a, err := c.Bind(ctx, alice.ID, lead, "300000000000000001", nil)
	require.NoError(t, err)
	require.Equal(t, "the-rose-7", a.RouteSlug)
	require.Equal(t, "300000000000000001", *a.DiscordGuildID)
	m, err := st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: alice.ID, AllianceID: a.ID})
	require.NoError(t, err)
	require.Equal(t, access.Admin, m.Role)
	require.Equal(t, alice.ID, *m.AssignedBy)

	// Demoted meanwhile, Alice moves it: her role stays as it is.
	_, err = st.AllianceManagerUpdate(ctx, store.AllianceManagerUpdateParams{ID: m.ID, Role: access.Manager, Permissions: []byte(`{}`)})
	require.NoError(t, err)
	from := "300000000000000001"
	moved, err := c.Bind(ctx, alice.ID, lead, "300000000000000002", &from)
	require.NoError(t, err)
	require.Equal(t, a.ID, moved.ID)
	require.Equal(t, "300000000000000002", *moved.DiscordGuildID)
	require.Equal(t, "the-rose-7", moved.RouteSlug, "an alliance keeps its slug")
	m, err = st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: alice.ID, AllianceID: a.ID})
	require.NoError(t, err)
	require.Equal(t, access.Manager, m.Role)

	// Another alliance in guild-2 is refused, and writes nothing.
	_, err = c.Bind(ctx, bob.ID, access.Leader{AllianceID: 9, Name: "Thorn", Position: "HEIR"}, "300000000000000002", nil)
	require.ErrorIs(t, err, access.ErrGuildTaken)
	_, err = st.AllianceGetByPnwID(ctx, 9)
	require.ErrorIs(t, err, store.ErrNotFound)

	rows := auditRows(t, st)
	require.Len(t, rows, 2)
	require.Equal(t, "alliance.setup", rows[0].Action)
	require.Equal(t, "7", rows[0].ResourceID)
	require.Equal(t, alice.ID, *rows[0].UserID)
	require.Equal(t, a.ID, *rows[0].AllianceID)
	require.Empty(t, rows[0].OldValues)
	require.Equal(t, map[string]any{"guild_id": "300000000000000001", "route_slug": "the-rose-7", "admin": float64(alice.ID), "position": "LEADER"},
		values(t, rows[0].NewValues))
	require.Equal(t, "alliance.move", rows[1].Action)
	require.Equal(t, map[string]any{"guild_id": "300000000000000001"}, values(t, rows[1].OldValues))
	require.Equal(t, "300000000000000002", values(t, rows[1].NewValues)["guild_id"])
}
