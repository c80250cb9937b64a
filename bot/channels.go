package bot

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"
)

// SendChannelMessage posts resp in a channel (or thread) and returns the
// message's id. It mentions exactly users and roles: Discord pings no one
// else, whatever the text says.
func (r *REST) SendChannelMessage(ctx context.Context, channelID string, resp *Response, users, roles []string) (string, error) {
	m, err := r.session.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{
		Content: resp.Content, Embeds: resp.Embeds, Components: resp.Components,
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Users: users, Roles: roles},
	}, discordgo.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("bot: send message: %w", err)
	}
	return m.ID, nil
}

// EditChannelMessage replaces a message the bot sent; an edit pings no one.
func (r *REST) EditChannelMessage(ctx context.Context, channelID, messageID string, resp *Response) error {
	embeds, components := resp.Embeds, resp.Components
	if components == nil {
		components = []discordgo.MessageComponent{}
	}
	_, err := r.session.ChannelMessageEditComplex(&discordgo.MessageEdit{
		ID: messageID, Channel: channelID, Content: &resp.Content, Embeds: &embeds, Components: &components,
		AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("bot: edit message: %w", err)
	}
	return nil
}

// StartPrivateThread opens a private thread under a text channel, kept a
// week past its last message, and returns its id.
func (r *REST) StartPrivateThread(ctx context.Context, channelID, name string) (string, error) {
	th, err := r.session.ThreadStartComplex(channelID, &discordgo.ThreadStart{
		Name: name, Type: discordgo.ChannelTypeGuildPrivateThread, AutoArchiveDuration: 10080, Invitable: false,
	}, discordgo.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("bot: start thread: %w", err)
	}
	return th.ID, nil
}

// AddThreadMember adds a user to a thread.
func (r *REST) AddThreadMember(ctx context.Context, threadID, userID string) error {
	if err := r.session.ThreadMemberAdd(threadID, userID, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("bot: add to thread: %w", err)
	}
	return nil
}

// ArchiveThread archives a thread.
func (r *REST) ArchiveThread(ctx context.Context, threadID string) error {
	archived := true
	if _, err := r.session.ChannelEdit(threadID, &discordgo.ChannelEdit{Archived: &archived}, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("bot: archive thread: %w", err)
	}
	return nil
}
