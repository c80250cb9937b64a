package commands_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
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

// TestLinkedRolesFollow checks that /link and /unlink rewrite the user's role
// connection and /delete-account empties it, before the account goes.
func TestLinkedRolesFollow(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	roles := &linkedRoles{}
	b.deps.LinkedRoles = roles

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
