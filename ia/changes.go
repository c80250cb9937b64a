package ia

import (
	"context"
	"errors"
	"strconv"

	"pnwbot/audit"
	"pnwbot/keys"
	"pnwbot/store"
)

// The managers' changes of an alliance's audit: its rules, its report
// channel and its inactive-bracket automation, each audited with the
// change in one transaction, as the manager who makes it (user: users.id).

// ErrNoBotKey is the bot without a game bot key, without which the game
// refuses to move members between brackets.
var ErrNoBotKey = errors.New("ia: the bot has no game bot key")

// bracketPerm is what a manager's own key needs in the game to move
// members between tax brackets.
const bracketPerm = "alliance_tax_brackets"

// refuse audits m's refused action on resource id.
func (s *Service) refuse(ctx context.Context, m keys.Actor, action, resource, id, reason string) {
	s.log.Record(ctx, audit.Entry{User: &m.User.ID, Alliance: &m.Alliance.ID, Action: action, Resource: resource, ResourceID: id, Failed: true,
		New: map[string]any{"reason": reason}})
}

// ownKey opens m's own alliance key when the game lets it move members
// between brackets now (keys.OwnKey); a refusal is audited as action on
// resource id and returned as the *keys.OwnRefused. A game that does not
// answer is its error.
func (s *Service) ownKey(ctx context.Context, m keys.Actor, action, resource, id string) (keys.Own, error) {
	own, err := s.keys.OwnKey(ctx, m, bracketPerm)
	var refused *keys.OwnRefused
	if errors.As(err, &refused) {
		s.refuse(ctx, m, action, resource, id, refused.Reason)
	}
	return own, err
}

// SetRule adds r to the alliance's rules, or replaces the rule of its kind
// and city floor, and returns the rule it replaced (nil: none).
func (s *Service) SetRule(ctx context.Context, user int64, a store.Alliance, r Rule) (*Rule, error) {
	var mmr []int32
	if r.Kind == MMR {
		mmr = []int32{int32(r.MMR[0]), int32(r.MMR[1]), int32(r.MMR[2]), int32(r.MMR[3])}
	}
	var before *Rule
	err := s.log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		old, err := q.AuditRuleGet(ctx, store.AuditRuleGetParams{AllianceID: a.ID, Kind: string(r.Kind), MinCities: int32(r.MinCities)})
		if err == nil {
			o := FromRow(old)
			before = &o
		} else if !errors.Is(err, store.ErrNotFound) {
			return audit.Entry{}, err
		}
		row, err := q.AuditRuleUpsert(ctx, store.AuditRuleUpsertParams{AllianceID: a.ID, Kind: string(r.Kind), Threshold: int32(r.Threshold),
			Mmr: mmr, MinCities: int32(r.MinCities), CreatedBy: &user})
		e := audit.Entry{User: &user, Alliance: &a.ID, Action: "audit_rule.set", Resource: "audit_rule", ResourceID: strconv.FormatInt(row.ID, 10),
			New: map[string]any{"rule": r.String()}}
		if before != nil {
			e.Old = map[string]any{"rule": before.String()}
		}
		return e, err
	})
	return before, err
}

// ErrNoSuchRule is RemoveRules finding no rule to remove.
var ErrNoSuchRule = errors.New("no such rule")

// RemoveRules removes the alliance's rules of kind (only the one of
// minCities when it is not nil) and returns them.
func (s *Service) RemoveRules(ctx context.Context, user int64, a store.Alliance, kind Kind, minCities *int) ([]Rule, error) {
	params := store.AuditRuleDeleteParams{AllianceID: a.ID, Kind: string(kind)}
	if minCities != nil {
		c := int32(*minCities)
		params.MinCities = &c
	}
	var removed []Rule
	err := s.log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		rows, err := q.AuditRuleDelete(ctx, params)
		said := make([]string, len(rows))
		for i, r := range rows {
			removed = append(removed, FromRow(r))
			said[i] = removed[i].String()
		}
		if err == nil && len(rows) == 0 {
			err = ErrNoSuchRule
		}
		return audit.Entry{User: &user, Alliance: &a.ID, Action: "audit_rule.remove", Resource: "audit_rule", ResourceID: string(kind),
			Old: map[string]any{"rules": said}}, err
	})
	return removed, err
}

// SetChannel posts the alliance's daily report in channelID, by the first
// pass after hour (UTC).
func (s *Service) SetChannel(ctx context.Context, user int64, a store.Alliance, channelID string, hour int) error {
	return s.log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		var old map[string]any
		if prev, err := q.AuditChannelGet(ctx, a.ID); err == nil {
			old = map[string]any{"channel_id": prev.ChannelID, "hour": prev.Hour}
		}
		_, err := q.AuditChannelSet(ctx, store.AuditChannelSetParams{AllianceID: a.ID, ChannelID: channelID, Hour: int16(hour)})
		return audit.Entry{User: &user, Alliance: &a.ID, Action: "audit.channel_set", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			Old: old, New: map[string]any{"channel_id": channelID, "hour": hour}}, err
	})
}

// SetAutomation moves the alliance's members inactive days or more to
// bracket, with m's own alliance key, once it may move members between
// brackets (*keys.OwnRefused) and the bot has a game bot key (ErrNoBotKey);
// refusals are audited.
func (s *Service) SetAutomation(ctx context.Context, m keys.Actor, days, bracket int) error {
	user, a := m.User.ID, m.Alliance
	id := strconv.FormatInt(a.PnwAllianceID, 10)
	if _, err := s.ownKey(ctx, m, "audit.automation", "alliance", id); err != nil {
		return err
	}
	if !s.Game.CanMutate() {
		s.refuse(ctx, m, "audit.automation", "alliance", id, "no bot key")
		return ErrNoBotKey
	}
	return s.log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		_, err := q.AuditAutomationSet(ctx, store.AuditAutomationSetParams{AllianceID: a.ID, Days: int32(days), BracketID: int64(bracket), ManagerID: m.Row.ID})
		return audit.Entry{User: &user, Alliance: &a.ID, Action: "audit.automation_set", Resource: "alliance", ResourceID: id,
			New: map[string]any{"days": days, "bracket": bracket, "manager_id": m.Row.ID}}, err
	})
}

// StopAutomation turns the automation off; store.ErrNotFound when it was
// off. Members it moved stay where they are.
func (s *Service) StopAutomation(ctx context.Context, user int64, a store.Alliance) error {
	return s.log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		old, err := q.AuditAutomationDelete(ctx, a.ID)
		return audit.Entry{User: &user, Alliance: &a.ID, Action: "audit.automation_off", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			Old: map[string]any{"days": old.Days, "bracket": old.BracketID}}, err
	})
}
