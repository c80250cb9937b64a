package ia

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"pnwbot/pnw"
	"pnwbot/store"
)

// Guild lists the user ids in a Discord server (the bot does it, when
// Discord lets it: the Server Members intent).
type Guild interface {
	MemberIDs(ctx context.Context, guildID string) ([]string, error)
}

// Auditor reads an alliance's rules and members and judges them.
type Auditor struct {
	Store *store.Store
	Game  *pnw.Client
	// Guild lists the server's members for the discord rule; nil leaves
	// "in the server" unchecked.
	Guild Guild
}

// Report is an alliance's audit.
type Report struct {
	Rules []Rule
	// Failing are the members failing a rule, worst first.
	Failing []Result
	Passing int
	// Members are every nation audited, applicants included, in the
	// game's order.
	Members []Member
	// Env is what the members were judged against.
	Env Env
	// FetchedAt is when the game's data was read; Stale says the game
	// could not be asked and older data served.
	FetchedAt time.Time
	Stale     bool
	// ServerUnchecked: the discord rule could not see who is in the
	// server, so only links were checked.
	ServerUnchecked bool
}

// ErrNoRules: the alliance has no rule to audit against.
var ErrNoRules = errors.New("ia: no rules")

// Rules returns the alliance's rules, in the order reports show them.
func (au Auditor) Rules(ctx context.Context, allianceID int64) ([]Rule, error) {
	rows, err := au.Store.AuditRuleList(ctx, allianceID)
	if err != nil {
		return nil, fmt.Errorf("audit rules: %w", err)
	}
	rules := make([]Rule, len(rows))
	for i, r := range rows {
		rules[i] = FromRow(r)
	}
	return rules, nil
}

// FromRow is a stored rule.
func FromRow(r store.AuditRule) Rule {
	rule := Rule{ID: r.ID, Kind: Kind(r.Kind), Threshold: int(r.Threshold), MinCities: int(r.MinCities)}
	for i := range min(len(r.Mmr), 4) {
		rule.MMR[i] = int(r.Mmr[i])
	}
	return rule
}

// Run audits every member of alliance a (or only nation, when not 0)
// against its rules, as of now. The game is read in at most two requests,
// both cached: the member list (shared with /alliance members) and, when a
// rule needs it, the alliance's color with each nation's seniority and
// buildings.
func (au Auditor) Run(ctx context.Context, a store.Alliance, nation int, now time.Time) (Report, error) {
	rules, err := au.Rules(ctx, a.ID)
	if err != nil {
		return Report{}, err
	}
	if len(rules) == 0 {
		return Report{}, ErrNoRules
	}
	members, err := au.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		return Report{}, err
	}
	rep := Report{Rules: rules, FetchedAt: members.FetchedAt, Stale: members.Stale}
	env := Env{Now: now}
	extra := map[string]pnw.AuditNation{}
	if needsExtra(rules) {
		x, err := au.Game.AllianceAudit(ctx, int(a.PnwAllianceID))
		if err != nil {
			return Report{}, err
		}
		env.AllianceColor = x.Data.Color
		for _, n := range x.Data.Nations {
			extra[n.Id] = n
		}
		rep.Stale = rep.Stale || x.Stale
		if x.FetchedAt.Before(rep.FetchedAt) {
			rep.FetchedAt = x.FetchedAt
		}
	}
	for _, n := range members.Data {
		if nation == 0 || n.Id == strconv.Itoa(nation) {
			rep.Members = append(rep.Members, member(n, extra[n.Id]))
		}
	}
	if err := au.linkDiscord(ctx, a, rules, rep.Members, &rep.ServerUnchecked); err != nil {
		return Report{}, err
	}
	rep.Env = env
	rep.Failing, rep.Passing = Judge(rules, rep.Members, env)
	return rep, nil
}

func needsExtra(rules []Rule) bool {
	for _, r := range rules {
		if r.Kind != Inactive && r.Kind != Discord {
			return true
		}
	}
	return false
}

// MemberOf is a nation of the member list, without the audit data
// (seniority, buildings) AllianceAudit adds.
func MemberOf(n pnw.Nation) Member { return member(n, pnw.AuditNation{}) }

// member joins a nation of the member list with its audit data.
func member(n pnw.Nation, x pnw.AuditNation) Member {
	id, _ := strconv.Atoi(n.Id)
	m := Member{
		NationID: id, Name: n.NationName, Leader: n.LeaderName, Color: n.Color,
		Applicant:     !n.AlliancePosition.IsMember(),
		VacationTurns: n.VacationModeTurns,
		Seniority:     x.AllianceSeniority, Cities: n.NumCities,
		Units: [4]int{n.Soldiers, n.Tanks, n.Aircraft, n.Ships},
	}
	if t, err := pnw.ParseTime(n.LastActive); err == nil {
		m.LastActive = t
	}
	for _, c := range x.Cities {
		m.Buildings[0] += c.Barracks
		m.Buildings[1] += c.Factory
		m.Buildings[2] += c.Hangar
		m.Buildings[3] += c.Drydock
	}
	return m
}

// linkDiscord fills in who linked each nation (one query) and, for the
// discord rule, whether they are in the alliance's server.
func (au Auditor) linkDiscord(ctx context.Context, a store.Alliance, rules []Rule, members []Member, unchecked *bool) error {
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = int64(m.NationID)
	}
	rows, err := au.Store.UserListByNationIDs(ctx, ids)
	if err != nil {
		return fmt.Errorf("linked users: %w", err)
	}
	linked := make(map[int64]string, len(rows))
	for _, r := range rows {
		linked[*r.PnwNationID] = r.DiscordID
	}
	var inServer map[string]bool
	if hasKind(rules, Discord) {
		inServer, err = au.serverMembers(ctx, a)
		*unchecked = err != nil
	}
	for i := range members {
		m := &members[i]
		m.DiscordID = linked[int64(m.NationID)]
		if inServer != nil && m.DiscordID != "" {
			in := inServer[m.DiscordID]
			m.InServer = &in
		}
	}
	return nil
}

func (au Auditor) serverMembers(ctx context.Context, a store.Alliance) (map[string]bool, error) {
	if au.Guild == nil || a.DiscordGuildID == nil {
		return nil, errors.New("no server")
	}
	ids, err := au.Guild.MemberIDs(ctx, *a.DiscordGuildID)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}

func hasKind(rules []Rule, k Kind) bool {
	for _, r := range rules {
		if r.Kind == k {
			return true
		}
	}
	return false
}
