package store

import (
	"cmp"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQueryTimeout: a command's read gets QueryTimeout, and one that runs
// longer is an outage; a report (ForReport) may take longer,
// and reports that do, one after another, leave the breaker closed.
func TestQueryTimeout(t *testing.T) {
	t.Parallel()
	url := cmp.Or(os.Getenv("TEST_DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	st, err := Open(t.Context(), url, 2)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	sleep := func(ctx context.Context) error {
		_, err := st.Queries.db.Exec(ctx, "SELECT pg_sleep(1.2)")
		return err
	}
	require.ErrorIs(t, sleep(t.Context()), ErrUnavailable, "a command's read past QueryTimeout")

	report := ForReport(t.Context())
	for range breakerFailures {
		require.NoError(t, sleep(report))
	}
	_, err = st.Queries.db.Exec(t.Context(), "SELECT 1")
	require.NoError(t, err, "the breaker stayed closed")
}
