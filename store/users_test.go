package store_test

import (
	"crypto/sha256"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestUsers(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *store.Store {
		t.Helper()
		return storetest.NewDB(t)
	}

	link := func(t *testing.T, s *store.Store, id, nation int64, key string) (store.User, error) {
		t.Helper()
		return s.UserLinkNation(t.Context(), store.UserLinkNationParams{
			ID: id, PnwNationID: &nation, PnwApiKey: []byte(key), KeyPermissions: []byte(`{"bank":true}`),
		})
	}

	t.Run("UpsertKeepsFirstSalt", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		first := newUser(t, s, "1")

		again, err := s.UserUpsertByDiscordID(t.Context(), store.UserUpsertByDiscordIDParams{
			DiscordID: "1", DiscordUsername: "renamed", KeySalt: salt(),
		})
		require.NoError(t, err)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, first.KeySalt, again.KeySalt)
		require.Equal(t, "renamed", again.DiscordUsername)

		// An id known only from configuration carries no username.
		again, err = s.UserUpsertByDiscordID(t.Context(), store.UserUpsertByDiscordIDParams{DiscordID: "1", KeySalt: salt()})
		require.NoError(t, err)
		require.Equal(t, "renamed", again.DiscordUsername)

		got, err := s.UserGetByDiscordID(t.Context(), "1")
		require.NoError(t, err)
		require.Equal(t, "renamed", got.DiscordUsername)
		require.Equal(t, first.KeySalt, got.KeySalt)
		require.JSONEq(t, `{"canViewOwnData": true, "canEditOwnProfile": true, "canLinkApiKey": true, "canDeleteAccount": true}`, string(got.Permissions))
	})

	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		newUser(t, s, "1")

		_, err := s.UserGetByDiscordID(t.Context(), "2")
		require.Equal(t, store.ErrNotFound, err)
		_, err = s.UserGetByID(t.Context(), 999)
		require.Equal(t, store.ErrNotFound, err)
		_, err = s.UserGetByNationID(t.Context(), ptr[int64](5))
		require.Equal(t, store.ErrNotFound, err)
		// Inside a transaction too.
		err = s.InTx(t.Context(), func(q *store.Queries) error {
			_, err := q.UserGetByDiscordID(t.Context(), "2")
			return err
		})
		require.Equal(t, store.ErrNotFound, err)
	})

	t.Run("LinkAndUnlink", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u := newUser(t, s, "1")

		linked, err := link(t, s, u.ID, 42, "sealed")
		require.NoError(t, err)
		require.Equal(t, ptr[int64](42), linked.PnwNationID)
		require.Equal(t, []byte("sealed"), linked.PnwApiKey)
		require.JSONEq(t, `{"bank":true}`, string(linked.KeyPermissions))
		require.NotNil(t, linked.KeyVerifiedAt)

		byNation, err := s.UserGetByNationID(t.Context(), ptr[int64](42))
		require.NoError(t, err)
		require.Equal(t, u.ID, byNation.ID)

		// One nation per user: linking another nation replaces the first.
		_, err = link(t, s, u.ID, 43, "sealed2")
		require.NoError(t, err)
		_, err = s.UserGetByNationID(t.Context(), ptr[int64](42))
		require.ErrorIs(t, err, store.ErrNotFound)

		unlinked, err := s.UserUnlink(t.Context(), u.ID)
		require.NoError(t, err)
		require.Nil(t, unlinked.PnwNationID)
		require.Nil(t, unlinked.PnwApiKey)
		require.Nil(t, unlinked.KeyPermissions)
		require.Nil(t, unlinked.KeyVerifiedAt)
		require.Equal(t, u.KeySalt, unlinked.KeySalt)
	})

	t.Run("LinkNationHeldByAnother", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		a, b := newUser(t, s, "1"), newUser(t, s, "2")
		_, err := link(t, s, a.ID, 42, "a-key")
		require.NoError(t, err)

		_, err = link(t, s, b.ID, 42, "b-key")
		require.True(t, store.IsUniqueViolation(err, "users_pnw_nation_id_key"), "got %v", err)
		require.True(t, store.IsUniqueViolation(err, ""))
		require.False(t, store.IsUniqueViolation(err, "users_discord_id_key"))

		holder, err := s.UserGetByNationID(t.Context(), ptr[int64](42))
		require.NoError(t, err)
		require.Equal(t, a.ID, holder.ID)
		require.Equal(t, []byte("a-key"), holder.PnwApiKey)
		b, err = s.UserGetByID(t.Context(), b.ID)
		require.NoError(t, err)
		require.Nil(t, b.PnwNationID)
		require.Nil(t, b.PnwApiKey)
	})

	t.Run("KeyRevokedThenRelinked", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u := newUser(t, s, "1")
		_, err := link(t, s, u.ID, 42, "sealed")
		require.NoError(t, err)

		// A refusal of a key that was replaced meanwhile changes nothing.
		n, err := s.UserMarkKeyRevoked(t.Context(), store.UserMarkKeyRevokedParams{ID: u.ID, PnwApiKey: []byte("older")})
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = s.UserMarkKeyRevoked(t.Context(), store.UserMarkKeyRevokedParams{ID: u.ID, PnwApiKey: []byte("sealed")})
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		u, err = s.UserGetByID(t.Context(), u.ID)
		require.NoError(t, err)
		require.NotNil(t, u.KeyRevokedAt)

		u, err = link(t, s, u.ID, 42, "fresh")
		require.NoError(t, err)
		require.Nil(t, u.KeyRevokedAt)
	})

	t.Run("ReplaceKeyCompareAndSwap", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		u := newUser(t, s, "1")
		_, err := link(t, s, u.ID, 42, "v1")
		require.NoError(t, err)

		n, err := s.UserReplaceKey(t.Context(), store.UserReplaceKeyParams{ID: u.ID, OldKey: []byte("stale"), NewKey: []byte("v2")})
		require.NoError(t, err)
		require.Zero(t, n)
		got, err := s.UserGetByID(t.Context(), u.ID)
		require.NoError(t, err)
		require.Equal(t, []byte("v1"), got.PnwApiKey)

		n, err = s.UserReplaceKey(t.Context(), store.UserReplaceKeyParams{ID: u.ID, OldKey: []byte("v1"), NewKey: []byte("v2")})
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		got, err = s.UserGetByID(t.Context(), u.ID)
		require.NoError(t, err)
		require.Equal(t, []byte("v2"), got.PnwApiKey)
	})

	t.Run("ListKeysPages", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		var withKeys []int64
		for i := range 5 {
			u := newUser(t, s, string(rune('1'+i)))
			if i != 2 {
				_, err := link(t, s, u.ID, int64(100+i), "k")
				require.NoError(t, err)
				withKeys = append(withKeys, u.ID)
			}
		}

		var got []int64
		after := int64(0)
		for {
			page, err := s.UserListKeys(t.Context(), store.UserListKeysParams{AfterID: after, RowLimit: 2})
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				got = append(got, r.ID)
				require.Len(t, r.KeySalt, 16)
			}
			after = page[len(page)-1].ID
		}
		require.Equal(t, withKeys, got)

		c, err := s.UserCount(t.Context())
		require.NoError(t, err)
		require.Equal(t, store.UserCountRow{Users: 5, Linked: 4}, c)
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()

	type testBundle struct{ user store.User }

	setup := func(t *testing.T) (*store.Store, *testBundle) {
		t.Helper()
		s := storetest.NewDB(t)
		return s, &testBundle{user: newUser(t, s, "1")}
	}

	hash := func(token string) []byte {
		h := sha256.Sum256([]byte(token))
		return h[:]
	}

	create := func(t *testing.T, s *store.Store, userID int64, token string) store.UserSession {
		t.Helper()
		sess, err := s.UserSessionCreate(t.Context(), store.UserSessionCreateParams{
			UserID: userID, TokenHash: hash(token), IpAddress: ptr(netip.MustParseAddr("192.0.2.1")),
			UserAgent: "test", ExpiresAt: time.Now().Add(time.Hour),
		})
		require.NoError(t, err)
		return sess
	}

	active := func(t *testing.T, s *store.Store, tokenHash []byte) (store.UserSession, error) {
		return s.UserSessionGetActive(t.Context(), store.UserSessionGetActiveParams{
			TokenHash: tokenHash, Now: time.Now(), IdleSince: time.Now().Add(-time.Hour)})
	}

	// createExpired backdates created_at, since a session must expire after it
	// was created.
	createExpired := func(t *testing.T, s *store.Store, userID int64, token string) {
		t.Helper()
		_, err := s.Pool.Exec(t.Context(), `
			INSERT INTO user_sessions (user_id, token_hash, expires_at, created_at)
			VALUES ($1, $2, now() - interval '1 hour', now() - interval '2 hours')`, userID, hash(token))
		require.NoError(t, err)
	}

	t.Run("ActiveOnly", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)
		live := create(t, s, b.user.ID, "active")
		create(t, s, b.user.ID, "revoked")
		createExpired(t, s, b.user.ID, "expired")
		revoked, err := s.UserSessionRevoke(t.Context(), hash("revoked"))
		require.NoError(t, err)
		require.Equal(t, b.user.ID, revoked.UserID)

		got, err := active(t, s, hash("active"))
		require.NoError(t, err)
		require.Equal(t, live.ID, got.ID)
		require.Equal(t, b.user.ID, got.UserID)
		require.Equal(t, netip.MustParseAddr("192.0.2.1"), *got.IpAddress)

		for _, token := range []string{"revoked", "expired", "unknown"} {
			_, err := active(t, s, hash(token))
			require.ErrorIs(t, err, store.ErrNotFound, token)
		}
	})

	t.Run("RevokeAllForUser", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)
		other := newUser(t, s, "2")
		create(t, s, b.user.ID, "a")
		create(t, s, b.user.ID, "b")
		create(t, s, other.ID, "c")

		hashes, err := s.UserSessionRevokeAllForUser(t.Context(), b.user.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, [][]byte{hash("a"), hash("b")}, hashes)
		for _, token := range []string{"a", "b"} {
			_, err := active(t, s, hash(token))
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		_, err = active(t, s, hash("c"))
		require.NoError(t, err)
	})

	t.Run("Touch", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t)
		sess := create(t, s, b.user.ID, "a")
		_, err := s.Pool.Exec(t.Context(), "UPDATE user_sessions SET last_used_at = now() - interval '1 day'")
		require.NoError(t, err)
		_, err = active(t, s, hash("a"))
		require.ErrorIs(t, err, store.ErrNotFound, "idle for a day")

		require.NoError(t, s.UserSessionTouch(t.Context(), store.UserSessionTouchParams{ID: sess.ID, Now: time.Now()}))
		got, err := active(t, s, hash("a"))
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), got.LastUsedAt, time.Minute)
	})
}
