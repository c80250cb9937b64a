// Package roles keeps Discord roles in step with the game: the member and
// government roles an alliance chose, given and taken in its server as
// its members' positions say, and each user's Linked Roles connection
// (linked.go). It speaks to Discord through small interfaces of its own
// types, never discordgo's, so a command, a page and a job call it alike.
package roles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/store"
)

// The alliances.settings keys of the roles that follow the game.
const (
	MemberSetting  = "member_role"
	OfficerSetting = "officer_role"
)

// Member is a server member as a sync sees them.
type Member struct {
	UserID string
	Bot    bool
	Roles  []string
}

// Role is a server role.
type Role struct {
	ID       string
	Position int
	Managed  bool // an integration's: no one can give it
	// Powers names the moderation or admin permissions it carries, as the
	// front door names them ("Manage Roles"): the bot hands such a role to
	// no one, or it would give Discord-side power the server's admins
	// never gave.
	Powers []string
}

// Guilds reads a server's roles and members and gives or takes roles.
type Guilds interface {
	Members(ctx context.Context, guildID string) ([]Member, error)
	Roles(ctx context.Context, guildID string) ([]Role, error)
	// Owner is the user id of the server's owner.
	Owner(ctx context.Context, guildID string) (string, error)
	// BotRoles are the roles the bot holds there.
	BotRoles(ctx context.Context, guildID string) ([]string, error)
	Add(ctx context.Context, guildID, userID, roleID string) error
	Remove(ctx context.Context, guildID, userID, roleID string) error
}

// Connections keeps the Linked Roles connections of an alliance's members
// in step with its member list (Linked.SyncAlliance).
type Connections interface {
	SyncAlliance(ctx context.Context, allianceID int64, members []pnw.Nation) (int, error)
}

// Keys retires the alliance keys of managers whose nation left an
// alliance, as its member list shows (keys.Keys.RetireLeavers).
type Keys interface {
	RetireLeavers(ctx context.Context, a store.Alliance, members []pnw.Nation) (int, error)
}

// Options are what Roles works with.
type Options struct {
	Store  *store.Store
	Game   *pnw.Client
	Guilds Guilds
	// Connections and Keys, when set, follow each alliance's member list
	// in the periodic pass.
	Connections Connections
	Keys        Keys
	Logger      *slog.Logger
}

// Roles keeps servers' roles in step with the game.
type Roles struct {
	store       *store.Store
	game        *pnw.Client
	guilds      Guilds
	connections Connections
	keys        Keys
	audit       audit.Log
	logger      *slog.Logger
}

// New returns Roles working with o.
func New(o Options) *Roles {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Roles{store: o.Store, game: o.Game, guilds: o.Guilds, connections: o.Connections, keys: o.Keys,
		audit: audit.Log{Store: o.Store, Logger: o.Logger}, logger: o.Logger}
}

// Chosen reads the roles that follow the game from the alliance's
// settings; "" when unset.
func Chosen(a store.Alliance) (member, officer string) {
	var s map[string]any
	_ = json.Unmarshal(a.Settings, &s) // a CHECK keeps it an object
	member, _ = s[MemberSetting].(string)
	officer, _ = s[OfficerSetting].(string)
	return member, officer
}

// Invalid is a choice that cannot be stored; nothing was changed.
type Invalid struct{ Message string }

func (e *Invalid) Error() string { return e.Message }

// Chooser is who chooses the roles, as the interaction says.
type Chooser struct {
	UserID    int64    // users.id
	DiscordID string   // their Discord user id
	Roles     []string // their roles in the server
}

// Choose stores which roles of the alliance's server mean member and
// government, audited as by, and returns the alliance as stored. As
// Discord would when by gives a role, a role at or above by's highest
// role is refused (and the refusal audited) unless by owns the server.
func (r *Roles) Choose(ctx context.Context, by Chooser, a store.Alliance, member, officer string) (store.Alliance, error) {
	switch {
	case member == "" || officer == "":
		return a, &Invalid{"Choose both roles. Nothing was changed."}
	case member == officer:
		return a, &Invalid{"Members and government need two different roles. Nothing was changed."}
	case a.DiscordGuildID == nil:
		return a, ErrNoRoles
	case member == *a.DiscordGuildID || officer == *a.DiscordGuildID:
		return a, &Invalid{"@everyone cannot follow the game: choose or create a role. Nothing was changed."}
	}
	// As the server's roles say now: one that carries power is refused.
	all, err := r.guilds.Roles(ctx, *a.DiscordGuildID)
	if err != nil {
		return a, fmt.Errorf("server roles: %w", err)
	}
	top := 0 // @everyone's
	for _, role := range all {
		if slices.Contains(by.Roles, role.ID) {
			top = max(top, role.Position)
		}
	}
	var above string
	for _, role := range all {
		if role.ID != member && role.ID != officer {
			continue
		}
		if len(role.Powers) > 0 {
			return a, &Invalid{fmt.Sprintf("<@&%s> carries %s: a role the bot hands out as the game says may not. "+
				"Choose a role without moderation or admin permissions. Nothing was changed.", role.ID, strings.Join(role.Powers, ", "))}
		}
		if role.Position >= top {
			above = role.ID
		}
	}
	if above != "" {
		if err := r.mayGiveAbove(ctx, by, a, above); err != nil {
			return a, err
		}
	}
	err = r.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		if _, err := q.AllianceLock(ctx, a.ID); err != nil {
			return audit.Entry{}, err
		}
		cur, err := q.AllianceGetByID(ctx, a.ID)
		if err != nil {
			return audit.Entry{}, err
		}
		var s map[string]any
		if err := json.Unmarshal(cur.Settings, &s); err != nil {
			return audit.Entry{}, fmt.Errorf("alliance settings: %w", err)
		}
		oldMember, oldOfficer := Chosen(cur)
		s[MemberSetting], s[OfficerSetting] = member, officer
		raw, err := json.Marshal(s)
		if err != nil {
			return audit.Entry{}, err
		}
		a, err = q.AllianceUpdateSettings(ctx, store.AllianceUpdateSettingsParams{ID: a.ID, Settings: raw, IsPublic: cur.IsPublic})
		return audit.Entry{User: &by.UserID, Alliance: &a.ID, Action: "alliance.roles", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			Old: map[string]any{MemberSetting: oldMember, OfficerSetting: oldOfficer},
			New: map[string]any{MemberSetting: member, OfficerSetting: officer}}, err
	})
	if err != nil {
		return a, fmt.Errorf("store roles: %w", err)
	}
	return a, nil
}

// mayGiveAbove lets by choose role, at or above their highest role, only
// when they own the server; a refusal is audited.
func (r *Roles) mayGiveAbove(ctx context.Context, by Chooser, a store.Alliance, role string) error {
	owner, err := r.guilds.Owner(ctx, *a.DiscordGuildID)
	if err != nil {
		return fmt.Errorf("server owner: %w", err)
	}
	if owner == by.DiscordID {
		return nil
	}
	r.audit.Record(ctx, audit.Entry{User: &by.UserID, Alliance: &a.ID, Action: "permission.denied", Resource: "guild", ResourceID: *a.DiscordGuildID,
		Failed: true, New: map[string]any{"route": "/alliance/roles", "missing": []string{"discord:role above " + role}, "discord_id": by.DiscordID}})
	return &Invalid{fmt.Sprintf("<@&%s> is not below your highest role in this server: Discord would not let you give it, so the bot "+
		"will not hand it out for you. Choose a lower role, or ask someone above it. Nothing was changed.", role)}
}

// Skip is a role a sync does not attempt, and why.
type Skip struct {
	Role   string
	Reason SkipReason
	Powers []string // what a Powerful role carries
}

// SkipReason says why a role is not attempted.
type SkipReason int

// Why a role is skipped.
const (
	Gone     SkipReason = iota // deleted from the server
	Managed                    // an integration's
	Powerful                   // it carries moderation or admin permissions
	TooHigh                    // not below the bot's highest role
)

// String says what to do about it, as replies and the audit log show it.
func (s Skip) String() string {
	switch s.Reason {
	case Gone:
		return fmt.Sprintf("The role %s no longer exists: choose another with /alliance roles.", s.Role)
	case Managed:
		return fmt.Sprintf("<@&%s> belongs to an integration: no one can give it.", s.Role)
	case Powerful:
		return fmt.Sprintf("<@&%s> carries %s, which the bot never hands out: remove them from the role or choose another.",
			s.Role, strings.Join(s.Powers, ", "))
	}
	return fmt.Sprintf("<@&%s> is not below the bot's highest role, so Discord lets the bot neither give nor take it: "+
		"drag the bot's role above it (Server Settings, then Roles).", s.Role)
}

// Manageable returns those of roles the bot may give and take in the
// server, and the others with why: a role not below the bot's highest
// role, or one an integration manages, is never attempted.
func (r *Roles) Manageable(ctx context.Context, guildID string, roles ...string) (ok []string, skipped []Skip, err error) {
	all, err := r.guilds.Roles(ctx, guildID)
	if err != nil {
		return nil, nil, err
	}
	mine, err := r.guilds.BotRoles(ctx, guildID)
	if err != nil {
		return nil, nil, err
	}
	top := 0
	byID := map[string]Role{}
	for _, role := range all {
		byID[role.ID] = role
		if slices.Contains(mine, role.ID) {
			top = max(top, role.Position)
		}
	}
	for _, id := range roles {
		role, found := byID[id]
		switch {
		case !found:
			skipped = append(skipped, Skip{Role: id, Reason: Gone})
		case role.Managed:
			skipped = append(skipped, Skip{Role: id, Reason: Managed})
		case len(role.Powers) > 0:
			skipped = append(skipped, Skip{Role: id, Reason: Powerful, Powers: role.Powers})
		case role.Position >= top:
			skipped = append(skipped, Skip{Role: id, Reason: TooHigh})
		default:
			ok = append(ok, id)
		}
	}
	return ok, skipped, nil
}

// ErrNoRoles says the alliance chose no roles, or has no server.
var ErrNoRoles = errors.New("no Discord roles follow the game yet: choose them with /alliance roles")

// Synced is what a sync did.
type Synced struct {
	Given, Taken int
	Skipped      []Skip
	Failed       int // changes Discord refused
	// Kept counts roles left on linked users the game did not show out of
	// the alliance: the bot takes no role on a guess.
	Kept int
}

// Sync gives and takes the alliance's member and government roles in its
// server so that they follow the game: linked users whose nation is a
// member (not an applicant) get the member role, officers, the heir and
// the leader also the government role, and linked users the game shows
// elsewhere lose them. Unlinked users are left alone, and so is a linked
// user whose nation the game does not show (Kept); so is a role the bot
// may not manage (Skipped). The pass is audited (as by, or by the bot when
// by is nil). It reads positions from the cached member list.
func (r *Roles) Sync(ctx context.Context, a store.Alliance, by *int64) (Synced, error) {
	var s Synced
	memberRole, officerRole := Chosen(a)
	if memberRole == "" || a.DiscordGuildID == nil {
		return s, ErrNoRoles
	}
	guild := *a.DiscordGuildID
	roles, skipped, err := r.Manageable(ctx, guild, memberRole, officerRole)
	if err != nil {
		return s, fmt.Errorf("roles: %w", err)
	}
	s.Skipped = skipped
	nations, err := r.game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		return s, err
	}
	// What each linked member of the alliance should hold, by Discord id.
	position := map[int64]pnw.AlliancePositionEnum{}
	ids := make([]int64, 0, len(nations.Data))
	for _, n := range nations.Data {
		if id, err := strconv.ParseInt(n.Id, 10, 64); err == nil {
			position[id], ids = n.AlliancePosition, append(ids, id)
		}
	}
	linked, err := r.store.UserListByNationIDs(ctx, ids)
	if err != nil {
		return s, fmt.Errorf("linked members: %w", err)
	}
	want := map[string]map[string]bool{}
	for _, u := range linked {
		p := position[*u.PnwNationID]
		want[u.DiscordID] = map[string]bool{
			memberRole:  p.IsMember(),
			officerRole: p == pnw.AlliancePositionEnumOFFICER || p == pnw.AlliancePositionEnumHEIR || p == pnw.AlliancePositionEnumLEADER,
		}
	}
	members, err := r.guilds.Members(ctx, guild)
	if err != nil {
		return s, fmt.Errorf("server members: %w", err)
	}
	gone, err := r.leftAlliance(ctx, a, members, roles, want)
	if err != nil {
		return s, err
	}
	var given, taken, kept []string
	for _, m := range members {
		if m.Bot {
			continue
		}
		_, member := want[m.UserID]
		left, linked := gone[m.UserID]
		for _, role := range roles {
			has, should := slices.Contains(m.Roles, role), want[m.UserID][role]
			switch {
			case should && !has:
				err = r.guilds.Add(ctx, guild, m.UserID, role)
				given = append(given, m.UserID+":"+role)
			case has && !should && (member || left):
				err = r.guilds.Remove(ctx, guild, m.UserID, role)
				taken = append(taken, m.UserID+":"+role)
			case has && linked && !left:
				kept = append(kept, m.UserID+":"+role)
				continue
			default:
				continue
			}
			if err != nil {
				r.logger.WarnContext(ctx, "role sync: Discord refused", "alliance_id", a.ID, "user", m.UserID, "role", role, "error", err)
				s.Failed++
			}
		}
	}
	s.Given, s.Taken, s.Kept = len(given), len(taken), len(kept)
	why := make([]string, len(skipped))
	for i, sk := range skipped {
		why[i] = sk.String()
	}
	r.audit.Record(ctx, audit.Entry{User: by, Alliance: &a.ID, Action: "alliance.role_sync", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
		New: map[string]any{"given": given, "taken": taken, "kept": kept, "skipped": why, "failed": s.Failed}})
	return s, nil
}

// leftAlliance looks at the linked server members who hold a followed role
// but are not in the alliance's member list: true when the game shows
// their nation outside the alliance (the roles go), false when it does not
// show it (the roles stay: the bot takes nothing on a guess). Unlinked
// members are absent: their roles are never touched.
func (r *Roles) leftAlliance(ctx context.Context, a store.Alliance, members []Member, roles []string,
	want map[string]map[string]bool) (map[string]bool, error) {
	nationOf := map[string]int{}
	for _, m := range members {
		if m.Bot || want[m.UserID] != nil || !slices.ContainsFunc(roles, func(role string) bool { return slices.Contains(m.Roles, role) }) {
			continue
		}
		u, err := r.store.UserGetByDiscordID(ctx, m.UserID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("linked user: %w", err)
		}
		if u.PnwNationID != nil {
			nationOf[m.UserID] = int(*u.PnwNationID)
		}
	}
	gone := map[string]bool{}
	if len(nationOf) == 0 {
		return gone, nil
	}
	ids := make([]int, 0, len(nationOf))
	for _, id := range nationOf {
		ids = append(ids, id)
	}
	elsewhere := map[int]bool{}
	if ns, err := r.game.Nations(ctx, ids); err != nil {
		r.logger.WarnContext(ctx, "role sync: nations of linked users outside the member list", "alliance_id", a.ID, "error", err)
	} else {
		for _, n := range ns.Data {
			id, _ := strconv.Atoi(n.Id)
			elsewhere[id] = n.AllianceId != strconv.FormatInt(a.PnwAllianceID, 10)
		}
	}
	for user, nation := range nationOf {
		gone[user] = elsewhere[nation]
	}
	return gone, nil
}

// SyncAll is the periodic pass over every alliance bound to a server: its
// Linked Roles connections follow its member list (a member who joins,
// turns applicant or leaves is pushed at once), so do its managers' alliance
// keys (a manager who left loses theirs), and where roles are chosen Sync
// runs. An alliance that fails is logged and the others go on; it
// returns how many had their roles synced.
func (r *Roles) SyncAll(ctx context.Context) (int, error) {
	synced := 0
	var after int64
	for {
		page, err := r.store.AllianceList(ctx, store.AllianceListParams{AfterID: after, RowLimit: 100})
		if err != nil {
			return synced, fmt.Errorf("alliances: %w", err)
		}
		for _, a := range page {
			after = a.ID
			if a.DiscordGuildID == nil {
				continue
			}
			r.followMembers(ctx, a)
			if member, _ := Chosen(a); member == "" {
				continue
			}
			if _, err := r.Sync(ctx, a, nil); err != nil {
				r.logger.WarnContext(ctx, "role sync failed", "alliance_id", a.ID, "error", err)
				continue
			}
			synced++
		}
		if len(page) < 100 {
			return synced, nil
		}
	}
}

// followMembers hands the alliance's member list to Linked Roles and to
// the alliance keys.
func (r *Roles) followMembers(ctx context.Context, a store.Alliance) {
	if r.connections == nil && r.keys == nil {
		return
	}
	nations, err := r.game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		r.logger.WarnContext(ctx, "member list of an alliance", "alliance_id", a.ID, "error", err)
		return
	}
	if r.connections != nil {
		if _, err := r.connections.SyncAlliance(ctx, a.PnwAllianceID, nations.Data); err != nil {
			r.logger.WarnContext(ctx, "Linked Roles of an alliance", "alliance_id", a.ID, "error", err)
		}
	}
	if r.keys != nil {
		if _, err := r.keys.RetireLeavers(ctx, a, nations.Data); err != nil {
			r.logger.WarnContext(ctx, "alliance keys of managers who left", "alliance_id", a.ID, "error", err)
		}
	}
}
