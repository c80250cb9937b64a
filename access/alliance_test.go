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
