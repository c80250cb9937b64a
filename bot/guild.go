package bot

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"
)

// GuildMembers lists every member of a guild, 1,000 a request. Discord
// allows it only to an application with the Server Members intent (in the
// developer portal).
func (b *Bot) GuildMembers(ctx context.Context, guildID string) ([]*discordgo.Member, error) {
	var all []*discordgo.Member
	after := ""
	for {
		page, err := b.session.GuildMembers(guildID, after, 1000, discordgo.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("bot: list members: %w", err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all, nil
		}
		after = page[len(page)-1].User.ID
	}
}

// GuildRoles lists a guild's roles.
func (b *Bot) GuildRoles(ctx context.Context, guildID string) ([]*discordgo.Role, error) {
	roles, err := b.session.GuildRoles(guildID, discordgo.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("bot: list roles: %w", err)
	}
	return roles, nil
}

// BotRoles returns the role ids the bot holds in a guild: the highest of
// them bounds the roles it may give or take.
func (b *Bot) BotRoles(ctx context.Context, guildID string) ([]string, error) {
	me, err := b.session.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("bot: who am I: %w", err)
	}
	m, err := b.session.GuildMember(guildID, me.ID, discordgo.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("bot: own member: %w", err)
	}
	return m.Roles, nil
}

// AddMemberRole gives a member a role.
func (b *Bot) AddMemberRole(ctx context.Context, guildID, userID, roleID string) error {
	if err := b.session.GuildMemberRoleAdd(guildID, userID, roleID, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("bot: give role: %w", err)
	}
	return nil
}

// RemoveMemberRole takes a role from a member.
func (b *Bot) RemoveMemberRole(ctx context.Context, guildID, userID, roleID string) error {
	if err := b.session.GuildMemberRoleRemove(guildID, userID, roleID, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("bot: take role: %w", err)
	}
	return nil
}
