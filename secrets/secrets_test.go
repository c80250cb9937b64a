package secrets_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

const apiKey = "0123456789abcdef0123"

func newKeyring(t testing.TB, old []byte) (*secrets.Keyring, []byte) {
	t.Helper()
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	kr, err := secrets.NewKeyring(master, old)
	require.NoError(t, err)
	return kr, master
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	kr, _ := newKeyring(t, nil)
	salt := secrets.NewSalt()
	owner := secrets.NationKey(42)

	t.Run("RoundTrip", func(t *testing.T) {
		sealed, err := kr.Seal(apiKey, salt, owner)
		require.NoError(t, err)
		require.False(t, bytes.Contains(sealed, []byte(apiKey)), "ciphertext holds the key in clear")
		got, err := kr.Open(sealed, salt, owner)
		require.NoError(t, err)
		require.Equal(t, apiKey, got)
	})

	t.Run("FreshNonceEachTime", func(t *testing.T) {
		a, err := kr.Seal(apiKey, salt, owner)
		require.NoError(t, err)
		b, err := kr.Seal(apiKey, salt, owner)
		require.NoError(t, err)
		require.NotEqual(t, a, b)
	})

	t.Run("Tampering", func(t *testing.T) {
		sealed, err := kr.Seal(apiKey, salt, owner)
		require.NoError(t, err)
		for i := range sealed {
			bad := bytes.Clone(sealed)
			bad[i] ^= 0x01
			_, err := kr.Open(bad, salt, owner)
			require.ErrorIs(t, err, secrets.ErrOpen, "flipped byte %d still opens", i)
		}
		_, err = kr.Open(sealed[:len(sealed)-1], salt, owner)
		require.ErrorIs(t, err, secrets.ErrOpen)
		_, err = kr.Open(sealed[:10], salt, owner)
		require.ErrorIs(t, err, secrets.ErrOpen)
	})

	t.Run("SwappedRows", func(t *testing.T) {
		sealed, err := kr.Seal(apiKey, salt, owner)
		require.NoError(t, err)
		// Another user, even with the same salt, and another purpose of the same user.
		for _, other := range []secrets.Owner{secrets.NationKey(43), secrets.AllianceKey(42, 7)} {
			_, err := kr.Open(sealed, salt, other)
			require.ErrorIs(t, err, secrets.ErrOpen, "opened for %+v", other)
		}
		_, err = kr.Open(sealed, secrets.NewSalt(), owner)
		require.ErrorIs(t, err, secrets.ErrOpen, "opened with another salt")
	})

	t.Run("WrongMasterKey", func(t *testing.T) {
		sealed, err := kr.Seal(apiKey, salt, owner)
		require.NoError(t, err)
		other, _ := newKeyring(t, nil)
		_, err = other.Open(sealed, salt, owner)
		require.ErrorIs(t, err, secrets.ErrOpen)
	})

	t.Run("BadSalt", func(t *testing.T) {
		_, err := kr.Seal(apiKey, []byte("short"), owner)
		require.Error(t, err)
	})
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	_, err := secrets.ParseKey("not base64!")
	require.ErrorContains(t, err, "base64")
	_, err = secrets.ParseKey(base64.StdEncoding.EncodeToString(make([]byte, 16)))
	require.ErrorContains(t, err, "16 bytes, want 32")
	key, err := secrets.ParseKey(" " + secrets.GenerateKey() + "\n")
	require.NoError(t, err)
	require.Len(t, key, 32)
}

type rotateBundle struct {
	st      *store.Store
	oldRing *secrets.Keyring
	newRing *secrets.Keyring
	users   []store.User
	manager store.AllianceManager
}

// setupRotation stores 7 member keys and one manager key under an old master key.
func setupRotation(t *testing.T) *rotateBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.NewDB(t)
	oldRing, oldMaster := newKeyring(t, nil)
	newMaster, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	newRing, err := secrets.NewKeyring(newMaster, oldMaster)
	require.NoError(t, err)

	b := &rotateBundle{st: st, oldRing: oldRing, newRing: newRing}
	for i := range 7 {
		u, err := st.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{
			DiscordID: fmt.Sprint(1000 + i), DiscordUsername: "u", KeySalt: secrets.NewSalt(),
		})
		require.NoError(t, err)
		sealed, err := oldRing.Seal(fmt.Sprintf("key-%d", i), u.KeySalt, secrets.NationKey(u.ID))
		require.NoError(t, err)
		nation := int64(500 + i)
		u, err = st.UserLinkNation(ctx, store.UserLinkNationParams{ID: u.ID, PnwNationID: &nation, PnwApiKey: sealed})
		require.NoError(t, err)
		b.users = append(b.users, u)
	}
	a, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: 9, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	m, err := st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{
		UserID: b.users[0].ID, AllianceID: a.ID, Role: "admin", Permissions: []byte(`{}`),
	})
	require.NoError(t, err)
	sealed, err := oldRing.Seal("alliance-key", b.users[0].KeySalt, secrets.AllianceKey(b.users[0].ID, a.ID))
	require.NoError(t, err)
	b.manager, err = st.AllianceManagerSetKey(ctx, store.AllianceManagerSetKeyParams{ID: m.ID, ManagerApiKey: sealed})
	require.NoError(t, err)
	// A Linked Roles grant: two more sealed values.
	access, err := oldRing.Seal("access-1", b.users[1].KeySalt, secrets.DiscordGrant(b.users[1].ID))
	require.NoError(t, err)
	refresh, err := oldRing.Seal("refresh-1", b.users[1].KeySalt, secrets.DiscordGrant(b.users[1].ID))
	require.NoError(t, err)
	_, err = st.RoleConnectionUpsert(ctx, store.RoleConnectionUpsertParams{UserID: b.users[1].ID, AccessToken: access, RefreshToken: refresh, TokenExpiresAt: time.Now()})
	require.NoError(t, err)
	return b
}

// requireAllUnderNewKey checks every stored key opens with the new master key
// alone and holds its original value.
func (b *rotateBundle) requireAllUnderNewKey(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for i, u := range b.users {
		row, err := b.st.UserGetByID(ctx, u.ID)
		require.NoError(t, err)
		require.True(t, b.newRing.Current(row.PnwApiKey), "user %d not rotated", i)
		got, err := b.newRing.Open(row.PnwApiKey, row.KeySalt, secrets.NationKey(row.ID))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("key-%d", i), got)
		_, err = b.oldRing.Open(row.PnwApiKey, row.KeySalt, secrets.NationKey(row.ID))
		require.ErrorIs(t, err, secrets.ErrOpen, "old key still opens a rotated row")
	}
	m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.manager.UserID, AllianceID: b.manager.AllianceID})
	require.NoError(t, err)
	got, err := b.newRing.Open(m.ManagerApiKey, b.users[0].KeySalt, secrets.AllianceKey(m.UserID, m.AllianceID))
	require.NoError(t, err)
	require.Equal(t, "alliance-key", got)
	grant, err := b.st.RoleConnectionGet(ctx, b.users[1].ID)
	require.NoError(t, err)
	for sealed, want := range map[string]string{string(grant.RoleConnection.AccessToken): "access-1", string(grant.RoleConnection.RefreshToken): "refresh-1"} {
		got, err := b.newRing.Open([]byte(sealed), grant.KeySalt, secrets.DiscordGrant(b.users[1].ID))
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.True(t, b.newRing.Current([]byte(sealed)))
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("All", func(t *testing.T) {
		t.Parallel()
		b := setupRotation(t)
		stats, err := secrets.Rotate(ctx, kv.KeyTables(b.st), b.newRing, 3, nil)
		require.NoError(t, err)
		require.Equal(t, secrets.RotateStats{Rotated: 10}, stats)
		b.requireAllUnderNewKey(t)
	})

	t.Run("InterruptedThenResumed", func(t *testing.T) {
		t.Parallel()
		b := setupRotation(t)
		runCtx, cancel := context.WithCancel(ctx)
		// Cancel after the first batch of 3: the next list query fails.
		_, err := secrets.Rotate(runCtx, kv.KeyTables(b.st), b.newRing, 3, func(secrets.RotateStats) { cancel() })
		require.ErrorIs(t, err, context.Canceled)

		// Midway, every row still opens with the keyring the bot runs with.
		for _, u := range b.users {
			row, err := b.st.UserGetByID(ctx, u.ID)
			require.NoError(t, err)
			_, err = b.newRing.Open(row.PnwApiKey, row.KeySalt, secrets.NationKey(row.ID))
			require.NoError(t, err)
		}

		stats, err := secrets.Rotate(ctx, kv.KeyTables(b.st), b.newRing, 3, nil)
		require.NoError(t, err)
		require.Equal(t, secrets.RotateStats{Rotated: 7, Current: 3}, stats)
		b.requireAllUnderNewKey(t)

		again, err := secrets.Rotate(ctx, kv.KeyTables(b.st), b.newRing, 3, nil)
		require.NoError(t, err)
		require.Equal(t, secrets.RotateStats{Current: 10}, again)
	})

	t.Run("UnknownKeyLeftUntouched", func(t *testing.T) {
		t.Parallel()
		b := setupRotation(t)
		stranger, _ := newKeyring(t, nil)
		u := b.users[2]
		sealed, err := stranger.Seal("other", u.KeySalt, secrets.NationKey(u.ID))
		require.NoError(t, err)
		_, err = b.st.UserReplaceKey(ctx, store.UserReplaceKeyParams{ID: u.ID, OldKey: u.PnwApiKey, NewKey: sealed})
		require.NoError(t, err)

		stats, err := secrets.Rotate(ctx, kv.KeyTables(b.st), b.newRing, 3, nil)
		require.NoError(t, err)
		require.Equal(t, 1, stats.Failed)
		require.Equal(t, 9, stats.Rotated)
		row, err := b.st.UserGetByID(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, sealed, row.PnwApiKey, "an unreadable key must not be changed")

		bad, err := secrets.Unreadable(ctx, kv.KeyTables(b.st), b.newRing, 3)
		require.NoError(t, err)
		require.Equal(t, []secrets.Owner{secrets.NationKey(u.ID)}, bad)
	})

	t.Run("NeedsOldKey", func(t *testing.T) {
		t.Parallel()
		kr, _ := newKeyring(t, nil)
		_, err := secrets.Rotate(ctx, nil, kr, 3, nil)
		require.ErrorContains(t, err, "ENCRYPTION_KEY_OLD")
	})
}

func BenchmarkSeal(b *testing.B) {
	kr, _ := newKeyring(b, nil)
	salt := secrets.NewSalt()
	for b.Loop() {
		if _, err := kr.Seal(apiKey, salt, secrets.NationKey(1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	kr, _ := newKeyring(b, nil)
	salt := secrets.NewSalt()
	sealed, err := kr.Seal(apiKey, salt, secrets.NationKey(1))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := kr.Open(sealed, salt, secrets.NationKey(1)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	kr, _ := newKeyring(t, nil)
	now := time.Now()
	token := kr.SignToken("delete:42", now.Add(time.Minute))
	require.LessOrEqual(t, len(token), 40)

	require.True(t, kr.VerifyToken(token, "delete:42", now))
	require.False(t, kr.VerifyToken(token, "delete:43", now), "another subject")
	require.False(t, kr.VerifyToken(token, "delete:42", now.Add(2*time.Minute)), "expired")
	other, _ := newKeyring(t, nil)
	require.False(t, other.VerifyToken(token, "delete:42", now), "another master key")
	exp, mac, _ := strings.Cut(token, ".")
	require.False(t, kr.VerifyToken("zzzzzz."+mac, "delete:42", now), "extended expiry")
	require.False(t, kr.VerifyToken(exp+"."+mac[:len(mac)-2], "delete:42", now), "truncated")
	require.False(t, kr.VerifyToken("garbage", "delete:42", now))
}
