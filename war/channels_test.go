package war_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
	"pnwbot/war"
)

// TestSetAlertsAndOff: where an alliance's alerts go is set and turned
// off, each audited; a ping on offensive alerts and turning off what is
// off write nothing.
func TestSetAlertsAndOff(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := storetest.NewDB(t)
	svc := war.New(war.Options{Store: st})
	u, err := st.UserCreate(ctx, store.UserCreateParams{DiscordID: "1", KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	a, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: ours, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	channels := func() []store.WarAlertChannel {
		rows, err := st.WarAlertChannelList(ctx, a.ID)
		require.NoError(t, err)
		return rows
	}

	require.ErrorIs(t, svc.SetAlerts(ctx, u.ID, a.ID, war.Offensive, alertChannel, ptr(pingRole)), war.ErrPingOffensive)
	require.Empty(t, channels())

	require.NoError(t, svc.SetAlerts(ctx, u.ID, a.ID, war.Defensive, alertChannel, ptr(pingRole)))
	got := channels()
	require.Len(t, got, 1)
	require.Equal(t, war.Defensive, got[0].Kind)
	require.Equal(t, alertChannel, got[0].ChannelID)
	require.Equal(t, pingRole, *got[0].PingRoleID)

	require.NoError(t, svc.AlertsOff(ctx, u.ID, a.ID, war.Defensive))
	require.Empty(t, channels())
	require.ErrorIs(t, svc.AlertsOff(ctx, u.ID, a.ID, war.Defensive), war.ErrAlertsOff)

	rows, err := st.AuditLogList(ctx, store.AuditLogListParams{RowLimit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	off, set := rows[0], rows[1] // newest first
	want := map[string]any{"kind": "defensive", "channel_id": alertChannel, "ping_role_id": pingRole}
	for _, r := range []store.AuditLog{set, off} {
		require.Equal(t, "war_alerts", r.ResourceType)
		require.Equal(t, war.Defensive, r.ResourceID)
		require.Equal(t, u.ID, *r.UserID)
		require.Equal(t, a.ID, *r.AllianceID)
		require.True(t, r.Success)
	}
	require.Equal(t, "war.alerts_set", set.Action)
	require.Empty(t, set.OldValues)
	require.Equal(t, want, decode(t, set.NewValues))
	require.Equal(t, "war.alerts_off", off.Action)
	require.Equal(t, want, decode(t, off.OldValues))
	require.Empty(t, off.NewValues)
}

func decode(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}
