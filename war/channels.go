package war

import (
	"context"
	"errors"
	"fmt"

	"pnwbot/audit"
	"pnwbot/store"
)

var (
	// ErrPingOffensive refuses a role to ping on offensive alerts: only
	// a member attacked calls for help.
	ErrPingOffensive = errors.New("only defensive alerts ping a role")
	// ErrAlertsOff: the alerts of that kind were off already.
	ErrAlertsOff = errors.New("war alerts off already")
)

// SetAlerts posts the alliance's (alliances.id) alerts of kind (Defensive
// or Offensive) in channelID from now on, pinging pingRole on defensive
// ones (nil: no role), as user; audited war.alerts_set.
func (s *Service) SetAlerts(ctx context.Context, user, allianceID int64, kind, channelID string, pingRole *string) error {
	if pingRole != nil && kind != Defensive {
		return ErrPingOffensive
	}
	err := s.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		_, err := q.WarAlertChannelSet(ctx, store.WarAlertChannelSetParams{AllianceID: allianceID, Kind: kind, ChannelID: channelID, PingRoleID: pingRole})
		return audit.Entry{User: &user, Alliance: &allianceID, Action: "war.alerts_set", Resource: "war_alerts", ResourceID: kind,
			New: map[string]any{"kind": kind, "channel_id": channelID, "ping_role_id": pingRole}}, err
	})
	if err != nil {
		return fmt.Errorf("war alerts: %w", err)
	}
	return nil
}

// AlertsOff stops the alliance's alerts of kind, as user; audited
// war.alerts_off. ErrAlertsOff when they were off.
func (s *Service) AlertsOff(ctx context.Context, user, allianceID int64, kind string) error {
	err := s.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		old, err := q.WarAlertChannelDelete(ctx, store.WarAlertChannelDeleteParams{AllianceID: allianceID, Kind: kind})
		return audit.Entry{User: &user, Alliance: &allianceID, Action: "war.alerts_off", Resource: "war_alerts", ResourceID: kind,
			Old: map[string]any{"kind": kind, "channel_id": old.ChannelID, "ping_role_id": old.PingRoleID}}, err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrAlertsOff
	case err != nil:
		return fmt.Errorf("war alerts off: %w", err)
	}
	return nil
}
