package commands_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUnknownLookupsAreCached: the same unknown id or name asked again,
// by anyone, costs the bot's key nothing.
func TestUnknownLookupsAreCached(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	for _, user := range []string{aliceID, bobID, aliceID} {
		_, err := b.serve(t, "nation", "nation", "999999", "user", user)
		require.ErrorContains(t, err, "The game has no nation with id 999999.")
		_, err = b.serve(t, "alliance_info", "alliance", "4040", "user", user)
		require.ErrorContains(t, err, "4040")
		_, err = b.serve(t, "nation", "nation", "Zzyzx", "user", user)
		require.ErrorContains(t, err, `No nation is named "Zzyzx"`)
	}
	require.Equal(t, 1, b.game.RequestsFor("nationsByID"))
	require.Equal(t, 1, b.game.RequestsFor("alliancesByID"))
	require.Equal(t, 1, b.game.RequestsFor("nationsByName"))
}
