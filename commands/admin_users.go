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
	"pnwbot/bot"
	"pnwbot/store"
)

// memberPermissions are the permissions of users.permissions.
var memberPermissions = access.Names(access.MemberPermissions)

type adminUserOpts struct {
	User       *discordgo.User `discord:"user"`
	Permission string          `discord:"permission"`
	Value      bool            `discord:"value"`
	Alliance   string          `discord:"alliance"`
	Role       string          `discord:"role"`
}

// targetUser is the account of the user option, or a clear refusal.
func (d *Deps) targetUser(ctx context.Context, o *discordgo.User) (store.User, error) {
	if o == nil {
		return store.User{}, bot.UserError("Pick a Discord user.")
	}
	u, err := d.Store.UserGetByDiscordID(ctx, o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return u, bot.UserErrorf("<@%s> has no pnwbot account.", o.ID)
	} else if err != nil {
		return u, fmt.Errorf("target user: %w", err)
	}
	return u, nil
}

// adminUser shows anyone's profile from the database: nation, key status,
// roles, managed alliances, sessions; never a key.
func (d *Deps) adminUser(ctx context.Context, req *call) (*bot.Response, error) {
	var o adminUserOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	u, err := d.targetUser(ctx, o.User)
	if err != nil {
		return nil, err
	}
	e := &discordgo.MessageEmbed{Title: truncate("pnwbot profile of "+cmpName(u), 256), Color: colorDefault,
		Description: fmt.Sprintf("<@%s> · account %d since <t:%d:D>", u.DiscordID, u.ID, u.CreatedAt.Unix())}
	field := func(name, value string) {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: name, Value: fieldValue(value)})
	}
	if u.PnwNationID == nil {
		field("Nation", "Not linked.")
	} else {
		id := strconv.FormatInt(*u.PnwNationID, 10)
		field("Nation", fmt.Sprintf("[Nation %s](%s)", id, nationURL(id)))
	}
	field("API key", d.GameKeys.MemberStatus(ctx, u).Text(discordTime))
	row, err := d.Store.UserGetCaller(ctx, u.DiscordID)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	field("Roles", roleLines(callerOf(row)))
	perms, err := permissionMap(u.Permissions)
	if err != nil {
		return nil, err
	}
	var held []string
	for _, p := range memberPermissions {
		held = append(held, map[bool]string{true: "✅ ", false: "⛔ "}[perms[p]]+p)
	}
	field("Member permissions", strings.Join(held, "\n"))
	s, err := d.Store.AdminUserSessions(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	sessions := fmt.Sprintf("%d active", s.Active)
	if s.LastUsedAt.Unix() > 0 {
		sessions += fmt.Sprintf(", last used <t:%d:R>", s.LastUsedAt.Unix())
	}
	if u.LastLoginAt != nil {
		sessions += fmt.Sprintf(", last login <t:%d:R>", u.LastLoginAt.Unix())
	}
	field("Web sessions", sessions)
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}, nil
}

func cmpName(u store.User) string {
	if u.DiscordUsername != "" {
		return u.DiscordUsername
	}
	return u.DiscordID
}

func permissionMap(raw json.RawMessage) (map[string]bool, error) {
	perms := map[string]bool{}
	if err := json.Unmarshal(raw, &perms); err != nil {
		return nil, fmt.Errorf("member permissions: %w", err)
	}
	return perms, nil
}

// adminUserPermission grants or takes away one member permission.
func (d *Deps) adminUserPermission(ctx context.Context, req *call) (*bot.Response, error) {
	var o adminUserOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	actor := req.Account
	if !slices.Contains(memberPermissions, o.Permission) {
		return nil, bot.UserErrorf("%q is not a member permission: %s.", o.Permission, strings.Join(memberPermissions, ", "))
	}
	u, err := d.targetUser(ctx, o.User)
	if err != nil {
		return nil, err
	}
	err = d.Access.SetMemberPermission(ctx, actor.ID, u, access.MemberPermission(o.Permission), o.Value)
	if errors.Is(err, access.ErrUnchanged) {
		return nil, bot.UserErrorf("<@%s> already %s %s. Nothing was changed.", u.DiscordID, map[bool]string{true: "holds", false: "lacks"}[o.Value], o.Permission)
	} else if err != nil {
		return nil, fmt.Errorf("user permission: %w", err)
	}
	return &bot.Response{Content: fmt.Sprintf("<@%s> now %s %s.", u.DiscordID, map[bool]string{true: "holds", false: "lacks"}[o.Value], o.Permission)}, nil
}

// Alliances.

const routeAdminAlliancesPage = "admin/alliances/{owner}/{page}"

func (d *Deps) adminAlliances(ctx context.Context, req *call) (*bot.Response, error) {
	return d.adminAlliancesPage(ctx, req, 0)
}

func (d *Deps) adminAlliancesTurn(ctx context.Context, req *call) (*bot.Response, error) {
	page, err := turnPage(req)
	if err != nil {
		return nil, err
	}
	resp, err := d.adminAlliancesPage(ctx, req, page)
	return asPageTurn(resp), err
}

func (d *Deps) adminAlliancesPage(ctx context.Context, req *call, page int) (*bot.Response, error) {
	rows, err := d.Store.AdminAllianceList(ctx, store.AdminAllianceListParams{RowLimit: viewPageSize + 1, RowOffset: int32(page * viewPageSize)})
	if err != nil {
		return nil, fmt.Errorf("alliances: %w", err)
	}
	more := len(rows) > viewPageSize
	rows = rows[:min(len(rows), viewPageSize)]
	e := &discordgo.MessageEmbed{Title: "Alliances pnwbot runs", Color: colorDefault}
	if len(rows) == 0 {
		e.Description = "None yet: a leader binds one with /alliance setup."
	}
	for _, r := range rows {
		a := r.Alliance
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: truncate(fmt.Sprintf("%s (%d)", a.Name, a.PnwAllianceID), 256),
			Value: fieldValue(allianceSummary(a, r.Managers))})
	}
	e.Footer = &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("Page %d · /admin alliance shows one", page+1)}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}, Components: pager(routeAdminAlliancesPage, req.User.ID, page, more)}, nil
}

func allianceSummary(a store.Alliance, managers int64) string {
	server := "no server"
	if a.DiscordGuildID != nil {
		server = "server " + *a.DiscordGuildID
	}
	public := "private"
	if a.IsPublic {
		public = "public at `/a/" + a.RouteSlug + "`"
	}
	return fmt.Sprintf("%s · %d managers · %s · slug `%s`", server, managers, public, a.RouteSlug)
}

// optionAlliance finds the alliance an option names: pnwbot's alliances by
// game id, name or acronym.
func (d *Deps) optionAlliance(ctx context.Context, name string) (store.Alliance, error) {
	name = strings.TrimSpace(name)
	var a store.Alliance
	var err error
	if id, perr := strconv.ParseInt(name, 10, 64); perr == nil {
		a, err = d.Store.AllianceGetByPnwID(ctx, id)
	} else {
		a, err = d.Store.AdminAllianceByName(ctx, name)
	}
	if errors.Is(err, store.ErrNotFound) {
		return a, bot.UserErrorf("pnwbot runs no alliance %q: /admin alliances lists them.", truncate(name, 50))
	} else if err != nil {
		return a, fmt.Errorf("alliance: %w", err)
	}
	return a, nil
}

func (d *Deps) adminAllianceAutocomplete(ctx context.Context, req *call) (*bot.Response, error) {
	var o adminUserOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	rows, err := d.Store.AdminAllianceSearch(ctx, strings.TrimSpace(o.Alliance))
	if err != nil {
		return nil, fmt.Errorf("alliance search: %w", err)
	}
	out := make([]*discordgo.ApplicationCommandOptionChoice, len(rows))
	for i, a := range rows {
		out[i] = &discordgo.ApplicationCommandOptionChoice{Name: truncate(a.Name, 100), Value: strconv.FormatInt(a.PnwAllianceID, 10)}
	}
	return bot.Choices(out...), nil
}

// adminAlliance shows one alliance: managers, settings and server.
func (d *Deps) adminAlliance(ctx context.Context, req *call) (*bot.Response, error) {
	var o adminUserOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	a, err := d.optionAlliance(ctx, o.Alliance)
	if err != nil {
		return nil, err
	}
	managers, err := d.Store.AllianceManagerListByAlliance(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("managers: %w", err)
	}
	lines, err := managerLines(managers)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		lines = append(lines, "None.")
	}
	e := &discordgo.MessageEmbed{Title: truncate(fmt.Sprintf("%s (%d)", a.Name, a.PnwAllianceID), 256), URL: allianceURL(strconv.FormatInt(a.PnwAllianceID, 10)),
		Color: colorDefault, Description: allianceSummary(a, int64(len(managers))), Fields: []*discordgo.MessageEmbedField{
			{Name: "Managers", Value: fieldValue(strings.Join(lines, "\n"))},
			{Name: "Settings", Value: "`" + compactJSON(a.Settings) + "`"},
		}}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}, nil
}

// adminAssign makes a user a manager of an alliance with a role, whatever
// the alliance's own managers hold.
func (d *Deps) adminAssign(ctx context.Context, req *call) (*bot.Response, error) {
	var o adminUserOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	actor := req.Account
	if !slices.Contains(access.Roles, o.Role) {
		return nil, bot.UserErrorf("%q is not a role: viewer, manager or admin.", o.Role)
	}
	a, err := d.optionAlliance(ctx, o.Alliance)
	if err != nil {
		return nil, err
	}
	u, err := d.targetUser(ctx, o.User)
	if err != nil {
		return nil, err
	}
	if err := d.Access.Assign(ctx, actor.ID, a, u.ID, o.Role); err != nil {
		return nil, fmt.Errorf("assign: %w", err)
	}
	return &bot.Response{Content: fmt.Sprintf("<@%s> is now a %s of %s.", u.DiscordID, o.Role, a.Name)}, nil
}

// adminUnassign removes a manager from an alliance, never its last admin.
func (d *Deps) adminUnassign(ctx context.Context, req *call) (*bot.Response, error) {
	var o adminUserOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	actor := req.Account
	a, err := d.optionAlliance(ctx, o.Alliance)
	if err != nil {
		return nil, err
	}
	u, err := d.targetUser(ctx, o.User)
	if err != nil {
		return nil, err
	}
	err = d.Access.Unassign(ctx, actor.ID, a, u.ID)
	switch {
	case errors.Is(err, access.ErrLastAdmin): // audited by Unassign
		return nil, bot.UserErrorf("<@%s> is the only admin of %s: assign another admin first (/admin assign). Nothing was changed.", u.DiscordID, a.Name)
	case errors.Is(err, access.ErrNotManager):
		return nil, bot.UserErrorf("<@%s> does not manage %s. Nothing was changed.", u.DiscordID, a.Name)
	case err != nil:
		return nil, fmt.Errorf("unassign: %w", err)
	}
	return &bot.Response{Content: fmt.Sprintf("<@%s> no longer manages %s.", u.DiscordID, a.Name)}, nil
}
