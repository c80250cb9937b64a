package keys_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/keys"
)

// TestStatusText: one wording for both kinds of key, naming how to relink
// each, and never anything of the key itself.
func TestStatusText(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	when := func(t time.Time) string { return t.Format("2006-01-02") }
	perms := map[string]bool{"alliance_view_bank": true, "alliance_withdraw_bank": false, "nation_view_resources": true}
	for _, tc := range []struct {
		status keys.Status
		want   string
	}{
		{keys.Status{Kind: keys.Member}, "None linked."},
		{keys.Status{Kind: keys.Manager}, "None linked."},
		{keys.Status{Kind: keys.Member, State: keys.Unreadable}, "Stored, but unreadable: it was encrypted with a master key the bot no longer has, " +
			"so the bot cannot use it. Run /link with your key to store it again."},
		{keys.Status{Kind: keys.Manager, State: keys.Unreadable}, "Linked, but unreadable: it was encrypted with a master key the bot no longer has, " +
			"so the bot cannot use it. Link it again with /alliance key."},
		{keys.Status{Kind: keys.Member, State: keys.Revoked, RevokedAt: day}, "Refused by the game since 2026-11-30: it was revoked or regenerated. Link your new one (/link)."},
		{keys.Status{Kind: keys.Member, State: keys.Linked, VerifiedAt: &day, Permissions: perms},
			"Stored encrypted, verified 2026-11-30; the game grants it 2 of 3 permissions."},
		{keys.Status{Kind: keys.Manager, State: keys.Linked, Permissions: perms},
			"Linked, stored encrypted; the game grants it 2 of 3 permissions. Of the alliance's it may: alliance_view_bank."},
		{keys.Status{Kind: keys.Manager, State: keys.Linked}, "Linked, stored encrypted. Of the alliance's it may: nothing."},
	} {
		require.Equal(t, tc.want, tc.status.Text(when))
	}
}
