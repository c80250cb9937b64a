package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestAuditLogs(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *store.Store {
		t.Helper()
		return storetest.NewDB(t)
	}

	insert := func(t *testing.T, q *store.Queries, userID, allianceID *int64, action string) int64 {
		t.Helper()
		row, err := q.AuditLogInsert(t.Context(), store.AuditLogInsertParams{
			UserID: userID, AllianceID: allianceID, Action: action, Success: true, NewValues: []byte(`{"n":1}`),
		})
		require.NoError(t, err)
		return row.ID
	}

	list := func(t *testing.T, s *store.Store, arg store.AuditLogListParams) []int64 {
		t.Helper()
		if arg.RowLimit == 0 {
			arg.RowLimit = 100
		}
		rows, err := s.AuditLogList(t.Context(), arg)
		require.NoError(t, err)
		ids := []int64{}
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return ids
	}

	t.Run("InsertRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u := newUser(t, s, "1")

		row, err := s.AuditLogInsert(t.Context(), store.AuditLogInsertParams{
			UserID: &u.ID, Action: "key.linked", ResourceType: "user", ResourceID: "1",
			OldValues: []byte(`{"nation":null}`), NewValues: []byte(`{"nation":42}`), Success: false, UserAgent: "bot",
		})
		require.NoError(t, err)
		rows, err := s.AuditLogList(t.Context(), store.AuditLogListParams{RowLimit: 10})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		got := rows[0]
		require.Equal(t, row.ID, got.ID)
		require.Equal(t, &u.ID, got.UserID)
		require.Equal(t, "key.linked", got.Action)
		require.JSONEq(t, `{"nation":42}`, string(got.NewValues))
		require.JSONEq(t, `{"nation":null}`, string(got.OldValues))
		require.False(t, got.Success)
		require.WithinDuration(t, time.Now(), got.CreatedAt, time.Minute)
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u1, u2 := newUser(t, s, "1"), newUser(t, s, "2")
		a := newAlliance(t, s, 10, "rose")
		linked1 := insert(t, s.Queries, &u1.ID, &a.ID, "key.linked")
		linked2 := insert(t, s.Queries, &u2.ID, &a.ID, "key.linked")
		login1 := insert(t, s.Queries, &u1.ID, nil, "login")
		oldLogin2 := insert(t, s.Queries, &u2.ID, nil, "login")
		_, err := s.Pool.Exec(t.Context(), "UPDATE audit_logs SET created_at = now() - interval '2 days' WHERE id = $1", oldLogin2)
		require.NoError(t, err)

		require.Equal(t, []int64{login1, linked2, linked1, oldLogin2}, list(t, s, store.AuditLogListParams{}))
		require.Equal(t, []int64{login1, linked1}, list(t, s, store.AuditLogListParams{UserID: &u1.ID}))
		require.Equal(t, []int64{linked2, linked1}, list(t, s, store.AuditLogListParams{AllianceID: &a.ID}))
		require.Equal(t, []int64{login1, oldLogin2}, list(t, s, store.AuditLogListParams{Action: ptr("login")}))
		require.Equal(t, []int64{login1, linked2, linked1}, list(t, s, store.AuditLogListParams{Since: ptr(time.Now().Add(-24 * time.Hour))}))
		require.Equal(t, []int64{oldLogin2}, list(t, s, store.AuditLogListParams{UserID: &u2.ID, Action: ptr("login")}))
		require.Empty(t, list(t, s, store.AuditLogListParams{UserID: &u2.ID, Action: ptr("login"), Since: ptr(time.Now().Add(-time.Hour))}))
	})

	t.Run("PaginationStableUnderInserts", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		for range 7 {
			insert(t, s.Queries, nil, nil, "login")
		}
		// Rows written in one transaction share created_at, so the id must
		// break the tie: page 1 ends inside this group.
		require.NoError(t, s.InTx(t.Context(), func(q *store.Queries) error {
			for range 5 {
				insert(t, q, nil, nil, "login")
			}
			return nil
		}))
		want := list(t, s, store.AuditLogListParams{})
		require.Len(t, want, 12)

		var got []int64
		var cursor store.AuditLogListParams
		newer := map[int64]bool{}
		for {
			page, err := s.AuditLogList(t.Context(), store.AuditLogListParams{
				CursorTime: cursor.CursorTime, CursorID: cursor.CursorID, RowLimit: 4,
			})
			require.NoError(t, err)
			for _, r := range page {
				got = append(got, r.ID)
			}
			if len(page) < 4 {
				break
			}
			last := page[len(page)-1]
			cursor.CursorTime, cursor.CursorID = &last.CreatedAt, &last.ID
			// Newer events arrive between page loads.
			for range 3 {
				newer[insert(t, s.Queries, nil, nil, "login")] = true
			}
		}
		require.Equal(t, want, got)
		for _, id := range got {
			require.False(t, newer[id], "row %d inserted after page 1 showed up in a later page", id)
		}
	})
}
