package store_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestCascades shows what deleting a user or an alliance removes and what it
// keeps.
func TestCascades(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		user, assigner, other store.User
		alliance              store.Alliance
		manager, assigned     store.AllianceManager
	}

	// setup gives user a nation and key, a manager row with its own key, an
	// admin row, a session, an audit row and a usage row; assigner appointed
	// other as a manager, an admin too, so that user is not the alliance's
	// only admin (DeleteAccount refuses to remove that one).
	setup := func(t *testing.T) (*store.Store, *testBundle) {
		t.Helper()
		s := storetest.NewDB(t)
		ctx := t.Context()
		b := &testBundle{
			user: newUser(t, s, "1"), assigner: newUser(t, s, "2"), other: newUser(t, s, "3"),
			alliance: newAlliance(t, s, 1, "rose"),
		}
		_, err := s.UserLinkNation(ctx, store.UserLinkNationParams{ID: b.user.ID, PnwNationID: ptr[int64](7), PnwApiKey: []byte("sealed")})
		require.NoError(t, err)
		b.manager, err = s.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{
			UserID: b.user.ID, AllianceID: b.alliance.ID, Role: "admin", Permissions: []byte(`{}`),
		})
		require.NoError(t, err)
		_, err = s.AllianceManagerSetKey(ctx, store.AllianceManagerSetKeyParams{ID: b.manager.ID, ManagerApiKey: []byte("sealed")})
		require.NoError(t, err)
		b.assigned, err = s.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{
			UserID: b.other.ID, AllianceID: b.alliance.ID, Role: "admin", Permissions: []byte(`{}`), AssignedBy: &b.assigner.ID,
		})
		require.NoError(t, err)
		_, err = s.SystemAdminUpsert(ctx, store.SystemAdminUpsertParams{UserID: b.user.ID, Level: "admin", Permissions: []byte(`{}`)})
		require.NoError(t, err)
		token := sha256.Sum256([]byte("token"))
		_, err = s.UserSessionCreate(ctx, store.UserSessionCreateParams{UserID: b.user.ID, TokenHash: token[:], ExpiresAt: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		_, err = s.AuditLogInsert(ctx, store.AuditLogInsertParams{UserID: &b.user.ID, AllianceID: &b.alliance.ID, Action: "key.linked", Success: true})
		require.NoError(t, err)
		_, err = s.APIUsageLogInsertBatch(ctx, []store.APIUsageLogInsertBatchParams{
			{UserID: &b.user.ID, AllianceID: &b.alliance.ID, Endpoint: "nation", StatusCode: 200, CreatedAt: time.Now()},
		})
		require.NoError(t, err)
		return s, b
	}

	t.Run("DeleteUser", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		n, err := s.UserDelete(t.Context(), b.user.ID)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)

		require.Zero(t, count(t, s, "alliance_managers WHERE user_id = $1", b.user.ID))
		require.Zero(t, count(t, s, "system_admins"))
		require.Zero(t, count(t, s, "user_sessions"))
		// Neither key survives anywhere.
		require.Zero(t, count(t, s, "users WHERE pnw_api_key IS NOT NULL"))
		require.Zero(t, count(t, s, "alliance_managers WHERE manager_api_key IS NOT NULL"))
		// The events stay, without the person.
		require.Equal(t, 1, count(t, s, "audit_logs WHERE user_id IS NULL AND action = 'key.linked'"))
		require.Equal(t, 1, count(t, s, "api_usage_logs WHERE user_id IS NULL AND alliance_id = $1", b.alliance.ID))
		// Others are untouched.
		require.Equal(t, 1, count(t, s, "alliance_managers WHERE user_id = $1", b.other.ID))
	})

	t.Run("DeleteAssigner", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		_, err := s.UserDelete(t.Context(), b.assigner.ID)
		require.NoError(t, err)

		m, err := s.AllianceManagerGet(t.Context(), store.AllianceManagerGetParams{UserID: b.other.ID, AllianceID: b.alliance.ID})
		require.NoError(t, err)
		require.Equal(t, b.assigned.ID, m.ID)
		require.Nil(t, m.AssignedBy)
	})

	t.Run("DeleteAlliance", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		n, err := s.AllianceDelete(t.Context(), b.alliance.ID)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)

		require.Zero(t, count(t, s, "alliance_managers"))
		require.Equal(t, 1, count(t, s, "audit_logs WHERE alliance_id IS NULL AND user_id = $1", b.user.ID))
		require.Equal(t, 1, count(t, s, "api_usage_logs WHERE alliance_id IS NULL AND user_id = $1", b.user.ID))
		require.Equal(t, 3, count(t, s, "users"))
	})

	t.Run("DeleteAccount", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		err := s.DeleteAccount(t.Context(), b.user.ID, store.AuditLogInsertParams{
			UserID: &b.user.ID, Action: "account.deleted", ResourceType: "user", Success: true,
		})
		require.NoError(t, err)

		_, err = s.UserGetByID(t.Context(), b.user.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Zero(t, count(t, s, "alliance_managers WHERE user_id = $1", b.user.ID))
		require.Zero(t, count(t, s, "system_admins"))
		require.Zero(t, count(t, s, "user_sessions"))
		require.Equal(t, 1, count(t, s, "audit_logs WHERE action = 'account.deleted' AND user_id IS NULL"))
	})

	t.Run("DeleteAccountByAdmin", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		// An admin deleting someone else's account stays named as the actor.
		err := s.DeleteAccount(t.Context(), b.user.ID, store.AuditLogInsertParams{
			UserID: &b.assigner.ID, Action: "account.deleted", ResourceType: "user", Success: true,
		})
		require.NoError(t, err)
		require.Equal(t, 1, count(t, s, "audit_logs WHERE action = 'account.deleted' AND user_id = $1", b.assigner.ID))
	})

	t.Run("DeleteAccountMissing", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t)
		missing := int64(999_999)

		err := s.DeleteAccount(t.Context(), missing, store.AuditLogInsertParams{
			UserID: &missing, Action: "account.deleted", ResourceType: "user", Success: true,
		})
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Zero(t, count(t, s, "audit_logs WHERE action = 'account.deleted'"))
		require.Equal(t, 3, count(t, s, "users"))
	})

	t.Run("DeleteAccountMissingWithoutActor", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t)

		err := s.DeleteAccount(t.Context(), 999_999, store.AuditLogInsertParams{Action: "account.deleted", Success: true})
		require.ErrorIs(t, err, store.ErrNotFound)
		// The audit row was rolled back with the transaction.
		require.Zero(t, count(t, s, "audit_logs WHERE action = 'account.deleted'"))
	})

	t.Run("DeleteAccountAuditFails", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)

		// One transaction: when the audit row is refused, the user stays.
		err := s.DeleteAccount(t.Context(), b.user.ID, store.AuditLogInsertParams{Action: "Not An Action"})
		requireViolation(t, err, codeCheck, "audit_logs_action_check")
		_, err = s.UserGetByID(t.Context(), b.user.ID)
		require.NoError(t, err)
		require.Equal(t, 1, count(t, s, "user_sessions"))
	})
}
