package store_test

import (
	"crypto/rand"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"pnwbot/store"
)

// SQLSTATE codes the schema is expected to raise.
const (
	codeUnique = "23505"
	codeCheck  = "23514"
)

func ptr[T any](v T) *T { return &v }

func salt() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}

func newUser(t testing.TB, s *store.Store, discordID string) store.User {
	t.Helper()
	u, err := s.UserUpsertByDiscordID(t.Context(), store.UserUpsertByDiscordIDParams{
		DiscordID: discordID, DiscordUsername: "user" + discordID, KeySalt: salt(),
	})
	require.NoError(t, err)
	return u
}

func newAlliance(t testing.TB, s *store.Store, pnwID int64, slug string) store.Alliance {
	t.Helper()
	a, err := s.AllianceUpsert(t.Context(), store.AllianceUpsertParams{
		PnwAllianceID: pnwID, Name: "Alliance " + slug, RouteSlug: slug,
	})
	require.NoError(t, err)
	return a
}

// requireViolation checks that err is the PostgreSQL error code raised by
// constraint, so a test cannot pass on an unrelated failure.
func requireViolation(t testing.TB, err error, code, constraint string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want a PostgreSQL error, got %v", err)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
	require.Equal(t, constraint, pgErr.ConstraintName, pgErr.Message)
}

// count returns the rows of a table matching an optional condition.
func count(t testing.TB, s *store.Store, from string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, s.Pool.QueryRow(t.Context(), "SELECT count(*) FROM "+from, args...).Scan(&n))
	return n
}
