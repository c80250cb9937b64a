package pnw_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
)

// TestNotFoundIsCached: asking again for an unknown id or name sends no
// request, in either cache.
func TestNotFoundIsCached(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]func(*pnw.Options, *testBundle){"redis": func(*pnw.Options, *testBundle) {}, "postgres": withPostgresCache} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, opt)
			for range 3 {
				_, err := c.Nation(t.Context(), 999)
				require.ErrorIs(t, err, pnw.ErrNotFound)
				require.ErrorContains(t, err, "nation 999")
				_, err = c.Alliance(t.Context(), 4040)
				require.ErrorIs(t, err, pnw.ErrNotFound)
				r, err := c.NationsByName(t.Context(), "Nobody")
				require.NoError(t, err)
				require.Empty(t, r.Data)
			}
			require.Equal(t, 1, b.fake.RequestsFor("nationsByID"))
			require.Equal(t, 1, b.fake.RequestsFor("alliancesByID"))
			require.Equal(t, 1, b.fake.RequestsFor("nationsByName"))

			// Served from the cache, not-found answers log as cache hits.
			closeClient(t, c)
			var hits int
			for _, r := range usageRows(t, b) {
				if r.Endpoint == "nationsByID" && r.CacheHit {
					require.Equal(t, 404, r.Status)
					hits++
				}
			}
			require.Equal(t, 2, hits)
		})
	}
}
