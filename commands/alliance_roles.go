package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/roles"
)

// Guilds reads a server's roles and members and gives or takes roles; the
// bot implements it.
type Guilds interface {
	GuildMembers(ctx context.Context, guildID string) ([]*discordgo.Member, error)
	GuildRoles(ctx context.Context, guildID string) ([]*discordgo.Role, error)
	GuildOwner(ctx context.Context, guildID string) (string, error)
	BotRoles(ctx context.Context, guildID string) ([]string, error)
	AddMemberRole(ctx context.Context, guildID, userID, roleID string) error
	RemoveMemberRole(ctx context.Context, guildID, userID, roleID string) error
}

// RoleGuilds is roles.Guilds over the bot's REST client: the members' and
// roles' Discord types made roles' own.
type RoleGuilds struct{ Discord Guilds }

func (g RoleGuilds) Members(ctx context.Context, guildID string) ([]roles.Member, error) {
	ms, err := g.Discord.GuildMembers(ctx, guildID)
	out := make([]roles.Member, 0, len(ms))
	for _, m := range ms {
		if m.User != nil {
			out = append(out, roles.Member{UserID: m.User.ID, Bot: m.User.Bot, Roles: m.Roles})
		}
	}
	return out, err
}

func (g RoleGuilds) Roles(ctx context.Context, guildID string) ([]roles.Role, error) {
	rs, err := g.Discord.GuildRoles(ctx, guildID)
	out := make([]roles.Role, len(rs))
	for i, r := range rs {
		out[i] = roles.Role{ID: r.ID, Position: r.Position, Managed: r.Managed, Powers: powers(r.Permissions)}
	}
	return out, err
}

func (g RoleGuilds) Owner(ctx context.Context, guildID string) (string, error) {
	return g.Discord.GuildOwner(ctx, guildID)
}

func (g RoleGuilds) BotRoles(ctx context.Context, guildID string) ([]string, error) {
	return g.Discord.BotRoles(ctx, guildID)
}

func (g RoleGuilds) Add(ctx context.Context, guildID, userID, roleID string) error {
	return g.Discord.AddMemberRole(ctx, guildID, userID, roleID)
}

func (g RoleGuilds) Remove(ctx context.Context, guildID, userID, roleID string) error {
	return g.Discord.RemoveMemberRole(ctx, guildID, userID, roleID)
}

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

// allianceRoles stores which Discord roles mean member and government.
func (d *Deps) allianceRoles(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Member  string `discord:"member-role"`
		Officer string `discord:"officer-role"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	// The route needs a member with Manage Roles: req.Member is set.
	by := roles.Chooser{UserID: req.Account.ID, DiscordID: req.User.ID, Roles: req.Member.Roles}
	a, err := d.Roles.Choose(ctx, by, req.Alliance, opts.Member, opts.Officer)
	var invalid *roles.Invalid
	if errors.As(err, &invalid) {
		return nil, bot.UserError(invalid.Message)
	} else if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("Stored: linked members of %s get <@&%s>, and its officers, heir and leader also <@&%s>. "+
		"/alliance sync gives and takes them now; the bot also does it by itself from time to time.", a.Name, opts.Member, opts.Officer)
	if _, skipped, err := d.Roles.Manageable(ctx, *a.DiscordGuildID, opts.Member, opts.Officer); err != nil {
		d.Logger.WarnContext(ctx, "alliance roles: check the bot's roles", "error", err)
	} else if len(skipped) > 0 {
		msg += "\n⚠️ " + skipText(skipped, "\n⚠️ ")
	}
	return &bot.Response{Ephemeral: true, Content: msg}, nil
}

func skipText(skipped []roles.Skip, sep string) string {
	s := make([]string, len(skipped))
	for i, sk := range skipped {
		s[i] = sk.String()
	}
	return strings.Join(s, sep)
}

func (d *Deps) allianceSync(ctx context.Context, req *call) (*bot.Response, error) {
	a := req.Alliance
	r, err := d.Roles.Sync(ctx, a, &req.Account.ID)
	var pe *pnw.Error
	switch {
	case errors.Is(err, roles.ErrNoRoles):
		return nil, bot.UserError("No Discord roles follow the game yet: choose them with /alliance roles.")
	case errors.As(err, &pe):
		return nil, gameError(err, "No role was changed.")
	case err != nil:
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
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Not attempted", Value: fieldValue(skipText(r.Skipped, "\n"))})
	}
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}}, nil
}
