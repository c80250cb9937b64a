package commands_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
)

// linkedRoles records what the commands asked of the web side's Linked Roles.
type linkedRoles struct {
	mu    sync.Mutex
	calls []string
}

func (l *linkedRoles) SyncRoleConnection(_ context.Context, _ int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, "sync")
	return nil
}

func (l *linkedRoles) ForgetRoleConnection(_ context.Context, _ int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, "forget")
	return nil
}

func (l *linkedRoles) SyncAlliance(_ context.Context, allianceID int64, members []pnw.Nation) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	call := fmt.Sprintf("alliance %d:", allianceID)
	for _, n := range members {
		call += " " + n.Id + "=" + string(n.AlliancePosition)
	}
	l.calls = append(l.calls, call)
	return 0, nil
}

// TestLinkedRolesFollow checks that /link and /unlink rewrite the user's role
// connection and /delete-account empties it, before the account goes.
func TestLinkedRolesFollow(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	roles := &linkedRoles{}
	b.with(func(d *wiring) { d.LinkedRoles = roles })

	_, err := b.link(t, aliceID, aliceKey)
	require.NoError(t, err)
	require.Equal(t, []string{"sync"}, roles.calls, "/link")
	b.reply(t, "unlink")
	require.Equal(t, []string{"sync", "sync"}, roles.calls, "/unlink")
	_, err = b.link(t, aliceID, aliceKey)
	require.NoError(t, err)

	resp := b.reply(t, "button", "custom_id", deleteButton(t, b, aliceID))
	require.Contains(t, resp.Content, "deleted")
	require.Equal(t, []string{"sync", "sync", "sync", "forget"}, roles.calls, "/delete-account")
}

// TestLinkedRolesRoleSyncPass: the periodic role-sync pass hands every
// bound alliance's member list, positions included, to Linked Roles, also
// where no Discord role follows the game, so a change of position reaches
// the connections within one pass (web/site's TestLinkedRolesMembership
// shows what they then say).
func TestLinkedRolesRoleSyncPass(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	b.setUp(t)
	b.game.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", AllianceID: rose, AlliancePosition: "APPLICANT"})
	roles := &linkedRoles{}
	b.with(func(d *wiring) { d.LinkedRoles = roles })
	n, err := b.deps.Roles.SyncAll(t.Context())
	require.NoError(t, err)
	require.Zero(t, n, "no Discord roles chosen")
	require.Equal(t, []string{fmt.Sprintf("alliance %d: %d=LEADER %d=APPLICANT %d=MEMBER", rose, aliceNation, bobNation, carolNat)}, roles.calls)
}
