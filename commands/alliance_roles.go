package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
)

// Guilds reads a server's roles and members and gives or takes roles; the
// bot implements it.
type Guilds interface {
	GuildMembers(ctx context.Context, guildID string) ([]*discordgo.Member, error)
	GuildRoles(ctx context.Context, guildID string) ([]*discordgo.Role, error)
	BotRoles(ctx context.Context, guildID string) ([]string, error)
	AddMemberRole(ctx context.Context, guildID, userID, roleID string) error
	RemoveMemberRole(ctx context.Context, guildID, userID, roleID string) error
}

// The Discord roles that follow game positions, in alliances.settings.
const (
	settingMemberRole  = "member_role"
	settingOfficerRole = "officer_role"
)

var errNoRoles = bot.UserError("No Discord roles follow the game yet: choose them with /alliance roles.")

// powerful are the Discord permissions a role that follows the game may not
// carry: the bot gives such roles to whoever the game says, so they would
// hand out Discord-side power the server's own admins never gave.
var powerful = []struct {
	bit  int64
	name string
}{
	{discordgo.PermissionAdministrator, "Administrator"},
	{discordgo.PermissionManageGuild, "Manage Server"},
	{discordgo.PermissionManageRoles, "Manage Roles"},
	{discordgo.PermissionManageChannels, "Manage Channels"},
	{discordgo.PermissionManageWebhooks, "Manage Webhooks"},
	{discordgo.PermissionBanMembers, "Ban Members"},
	{discordgo.PermissionKickMembers, "Kick Members"},
	{discordgo.PermissionModerateMembers, "Moderate Members"},
	{discordgo.PermissionMentionEveryone, "Mention Everyone"},
}

// powers names the powerful permissions among perms.
func powers(perms int64) []string {
	var out []string
	for _, p := range powerful {
		if perms&p.bit != 0 {
			out = append(out, p.name)
		}
	}
	return out
}

func (d *Deps) rolesSubcommands() []*discordgo.ApplicationCommandOption {
	role := func(name, desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionRole, Name: name, Description: desc, Required: true}
	}
	return []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "roles", Description: "Choose the Discord roles of the alliance's members and government",
			Options: []*discordgo.ApplicationCommandOption{
				role("member-role", "Given to linked members (not applicants)"),
				role("officer-role", "Given to linked officers, the heir and the leader"),
			}},
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "sync", Description: "Give and take those roles now, as the game's positions say"},
	}
}

func (d *Deps) rolesRoutes() []route {
	need := access.Alliance(access.ManageSettings)
	return []route{
		{Path: "/alliance/roles", Need: need, Discord: discordgo.PermissionManageRoles, Handler: d.allianceRoles, Ephemeral: true},
		{Path: "/alliance/sync", Need: need, Handler: d.allianceSync, Ephemeral: true},
	}
}

// roleSettings reads the roles that follow the game from the alliance's
// settings; "" when unset.
func roleSettings(a store.Alliance) (member, officer string) {
	var s map[string]any
	_ = json.Unmarshal(a.Settings, &s) // a CHECK keeps it an object
	member, _ = s[settingMemberRole].(string)
	officer, _ = s[settingOfficerRole].(string)
	return member, officer
}

// allianceRoles stores which Discord roles mean member and government.
func (d *Deps) allianceRoles(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Member  string `discord:"member-role"`
		Officer string `discord:"officer-role"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	u := req.Account
	a := req.Alliance
	switch {
	case opts.Member == "" || opts.Officer == "":
		return nil, bot.UserError("Choose both roles. Nothing was changed.")
	case opts.Member == opts.Officer:
		return nil, bot.UserError("Members and government need two different roles. Nothing was changed.")
	case opts.Member == req.GuildID || opts.Officer == req.GuildID:
		return nil, bot.UserError("@everyone cannot follow the game: choose or create a role. Nothing was changed.")
	}
	if err := d.refusePowerful(ctx, *a.DiscordGuildID, opts.Member, opts.Officer); err != nil {
		return nil, err
	}
	err := d.change(ctx, func(q *store.Queries) (audit.Entry, error) {
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
		oldMember, oldOfficer := roleSettings(cur)
		s[settingMemberRole], s[settingOfficerRole] = opts.Member, opts.Officer
		raw, err := json.Marshal(s)
		if err != nil {
			return audit.Entry{}, err
		}
		a, err = q.AllianceUpdateSettings(ctx, store.AllianceUpdateSettingsParams{ID: a.ID, Settings: raw, IsPublic: cur.IsPublic})
		return audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "alliance.roles", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			Old: map[string]any{settingMemberRole: oldMember, settingOfficerRole: oldOfficer},
			New: map[string]any{settingMemberRole: opts.Member, settingOfficerRole: opts.Officer}}, err
	})
	if err != nil {
		return nil, fmt.Errorf("store roles: %w", err)
	}
	msg := fmt.Sprintf("Stored: linked members of %s get <@&%s>, and its officers, heir and leader also <@&%s>. "+
		"/alliance sync gives and takes them now; the bot also does it by itself from time to time.", a.Name, opts.Member, opts.Officer)
	if _, skipped, err := d.manageableRoles(ctx, *a.DiscordGuildID, opts.Member, opts.Officer); err != nil {
		d.Logger.WarnContext(ctx, "alliance roles: check the bot's roles", "error", err)
	} else if len(skipped) > 0 {
		msg += "\n⚠️ " + strings.Join(skipped, "\n⚠️ ")
	}
	return &bot.Response{Ephemeral: true, Content: msg}, nil
}

// refusePowerful refuses roles that carry a powerful permission, as the
// server's roles say now.
func (d *Deps) refusePowerful(ctx context.Context, guildID string, roles ...string) error {
	if d.Guilds == nil {
		return errors.New("no Discord guild access")
	}
	all, err := d.Guilds.GuildRoles(ctx, guildID)
	if err != nil {
		return fmt.Errorf("server roles: %w", err)
	}
	for _, r := range all {
		if p := powers(r.Permissions); slices.Contains(roles, r.ID) && len(p) > 0 {
			return bot.UserErrorf("<@&%s> carries %s: a role the bot hands out as the game says may not. "+
				"Choose a role without moderation or admin permissions. Nothing was changed.", r.ID, strings.Join(p, ", "))
		}
	}
	return nil
}

// manageableRoles returns those of roles the bot may give and take, and
// says why of the others: a role not below the bot's highest role, or one
// an integration manages, is never attempted.
func (d *Deps) manageableRoles(ctx context.Context, guildID string, roles ...string) (ok []string, skipped []string, err error) {
	if d.Guilds == nil {
		return nil, nil, errors.New("no Discord guild access")
	}
	all, err := d.Guilds.GuildRoles(ctx, guildID)
	if err != nil {
		return nil, nil, err
	}
	mine, err := d.Guilds.BotRoles(ctx, guildID)
	if err != nil {
		return nil, nil, err
	}
	top := 0
	byID := map[string]*discordgo.Role{}
	for _, r := range all {
		byID[r.ID] = r
		if slices.Contains(mine, r.ID) {
			top = max(top, r.Position)
		}
	}
	for _, id := range roles {
		r := byID[id]
		switch {
		case r == nil:
			skipped = append(skipped, fmt.Sprintf("The role %s no longer exists: choose another with /alliance roles.", id))
		case r.Managed:
			skipped = append(skipped, fmt.Sprintf("<@&%s> belongs to an integration: no one can give it.", id))
		case len(powers(r.Permissions)) > 0:
			skipped = append(skipped, fmt.Sprintf("<@&%s> carries %s, which the bot never hands out: remove them from the role or choose another.",
				id, strings.Join(powers(r.Permissions), ", ")))
		case r.Position >= top:
			skipped = append(skipped, fmt.Sprintf("<@&%s> is not below the bot's highest role, so Discord lets the bot neither give nor take it: "+
				"drag the bot's role above it (Server Settings, then Roles).", id))
		default:
			ok = append(ok, id)
		}
	}
	return ok, skipped, nil
}

// RoleSync is what a role sync did.
type RoleSync struct {
	Given, Taken int
	// Skipped says why a role was not attempted.
	Skipped []string
	// Failed counts changes Discord refused.
	Failed int
	// Kept counts roles left on linked users the game did not show out of
	// the alliance: the bot takes no role on a guess.
	Kept int
}

func (d *Deps) allianceSync(ctx context.Context, req *call) (*bot.Response, error) {
	u := req.Account
	a := req.Alliance
	r, err := d.SyncRoles(ctx, a, &u.ID)
	if err != nil {
		var pe *pnw.Error
		if errors.As(err, &pe) {
			return nil, gameError(err, "No role was changed.")
		}
		return nil, err
	}
	e := &discordgo.MessageEmbed{Title: truncate("Roles of "+a.Name+" synced", 256), Color: colorDefault,
		Description: fmt.Sprintf("Given: %d · Taken: %d", r.Given, r.Taken)}
	if r.Failed > 0 {
		e.Description += fmt.Sprintf(" · Refused by Discord: %d (the bot needs Manage Roles)", r.Failed)
	}
	if r.Kept > 0 {
		e.Description += fmt.Sprintf("\nKept: %d, on linked users outside the alliance's member list whose nation the game did not show: "+
			"the bot takes a role only when it sees the nation elsewhere.", r.Kept)
	}
	if len(r.Skipped) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Not attempted", Value: fieldValue(strings.Join(r.Skipped, "\n"))})
	}
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}}, nil
}

// SyncRoles gives and takes the alliance's member and government roles in
// its server so that they follow the game: linked users whose nation is a
// member (not an applicant) get the member role, officers, the heir and the
// leader also the government role, and linked users the game shows
// elsewhere lose them. Unlinked users are left alone, and so is a linked
// user whose nation the game does not show (counted in Kept); so is a role
// the bot may not manage
// (reported in Skipped). The pass is audited (as by, or by the bot when by
// is nil). It reads positions from the cached member list.
func (d *Deps) SyncRoles(ctx context.Context, a store.Alliance, by *int64) (RoleSync, error) {
	var r RoleSync
	memberRole, officerRole := roleSettings(a)
	if memberRole == "" || a.DiscordGuildID == nil {
		return r, errNoRoles
	}
	guild := *a.DiscordGuildID
	roles, skipped, err := d.manageableRoles(ctx, guild, memberRole, officerRole)
	if err != nil {
		return r, fmt.Errorf("roles: %w", err)
	}
	r.Skipped = skipped
	nations, err := d.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		return r, err
	}
	// What each linked member of the alliance should hold, by Discord id.
	position := map[int64]pnw.AlliancePositionEnum{}
	ids := make([]int64, 0, len(nations.Data))
	for _, n := range nations.Data {
		if id, err := strconv.ParseInt(n.Id, 10, 64); err == nil {
			position[id], ids = n.AlliancePosition, append(ids, id)
		}
	}
	linked, err := d.Store.UserListByNationIDs(ctx, ids)
	if err != nil {
		return r, fmt.Errorf("linked members: %w", err)
	}
	want := map[string]map[string]bool{}
	for _, u := range linked {
		p := position[*u.PnwNationID]
		want[u.DiscordID] = map[string]bool{
			memberRole:  p != pnw.AlliancePositionEnumAPPLICANT,
			officerRole: p == pnw.AlliancePositionEnumOFFICER || p == pnw.AlliancePositionEnumHEIR || p == pnw.AlliancePositionEnumLEADER,
		}
	}
	members, err := d.Guilds.GuildMembers(ctx, guild)
	if err != nil {
		return r, fmt.Errorf("server members: %w", err)
	}
	gone, err := d.leftAlliance(ctx, a, members, roles, want)
	if err != nil {
		return r, err
	}
	var given, taken, kept []string
	for _, m := range members {
		if m.User == nil || m.User.Bot {
			continue
		}
		_, member := want[m.User.ID]
		left, linked := gone[m.User.ID]
		for _, role := range roles {
			has, should := slices.Contains(m.Roles, role), want[m.User.ID][role]
			switch {
			case should && !has:
				err = d.Guilds.AddMemberRole(ctx, guild, m.User.ID, role)
				given = append(given, m.User.ID+":"+role)
			case has && !should && (member || left):
				err = d.Guilds.RemoveMemberRole(ctx, guild, m.User.ID, role)
				taken = append(taken, m.User.ID+":"+role)
			case has && linked && !left:
				kept = append(kept, m.User.ID+":"+role)
				continue
			default:
				continue
			}
			if err != nil {
				d.Logger.WarnContext(ctx, "role sync: Discord refused", "alliance_id", a.ID, "user", m.User.ID, "role", role, "error", err)
				r.Failed++
			}
		}
	}
	r.Given, r.Taken, r.Kept = len(given), len(taken), len(kept)
	d.audit(ctx, audit.Entry{User: by, Alliance: &a.ID, Action: "alliance.role_sync", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
		New: map[string]any{"given": given, "taken": taken, "kept": kept, "skipped": skipped, "failed": r.Failed}})
	return r, nil
}

// leftAlliance looks at the linked server members who hold a followed role
// but are not in the alliance's member list: true when the game shows
// their nation outside the alliance (the roles go), false when it does not
// show it (the roles stay: the bot takes nothing on a guess). Unlinked
// members are absent: their roles are never touched.
func (d *Deps) leftAlliance(ctx context.Context, a store.Alliance, members []*discordgo.Member, roles []string,
	want map[string]map[string]bool) (map[string]bool, error) {
	nationOf := map[string]int{}
	for _, m := range members {
		if m.User == nil || m.User.Bot || want[m.User.ID] != nil ||
			!slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(m.Roles, r) }) {
			continue
		}
		u, err := d.Store.UserGetByDiscordID(ctx, m.User.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("linked user: %w", err)
		}
		if u.PnwNationID != nil {
			nationOf[m.User.ID] = int(*u.PnwNationID)
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
	if ns, err := d.Game.Nations(ctx, ids); err != nil {
		d.Logger.WarnContext(ctx, "role sync: nations of linked users outside the member list", "alliance_id", a.ID, "error", err)
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

// SyncAllRoles is the periodic pass over every alliance bound to a server:
// its Linked Roles connections follow its member list (a member who joins,
// turns applicant or leaves is pushed at once), and where roles are chosen
// SyncRoles runs. An alliance that fails is logged and the others go on; it
// returns how many had their roles synced.
func (d *Deps) SyncAllRoles(ctx context.Context) (int, error) {
	synced := 0
	var after int64
	for {
		page, err := d.Store.AllianceList(ctx, store.AllianceListParams{AfterID: after, RowLimit: 100})
		if err != nil {
			return synced, fmt.Errorf("alliances: %w", err)
		}
		for _, a := range page {
			after = a.ID
			if a.DiscordGuildID == nil {
				continue
			}
			d.syncConnections(ctx, a)
			if member, _ := roleSettings(a); member == "" {
				continue
			}
			if _, err := d.SyncRoles(ctx, a, nil); err != nil {
				d.Logger.WarnContext(ctx, "role sync failed", "alliance_id", a.ID, "error", err)
				continue
			}
			synced++
		}
		if len(page) < 100 {
			return synced, nil
		}
	}
}

// syncConnections hands the alliance's member list to Linked Roles.
func (d *Deps) syncConnections(ctx context.Context, a store.Alliance) {
	if d.LinkedRoles == nil {
		return
	}
	nations, err := d.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err == nil {
		_, err = d.LinkedRoles.SyncAlliance(ctx, a.PnwAllianceID, nations.Data)
	}
	if err != nil {
		d.Logger.WarnContext(ctx, "Linked Roles of an alliance", "alliance_id", a.ID, "error", err)
	}
}
