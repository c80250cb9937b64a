package site

import (
	"context"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/oauth2"

	"pnwbot/store"
)

// RoleMetadata are the Linked Roles records a server's roles can require,
// registered at start with the bot token.
var RoleMetadata = []*discordgo.ApplicationRoleConnectionMetadata{
	{Type: discordgo.ApplicationRoleConnectionMetadataBooleanEqual, Key: "verified",
		Name: "Verified nation", Description: "Linked a Politics and War nation with its own API key"},
	{Type: discordgo.ApplicationRoleConnectionMetadataIntegerEqual, Key: "alliance_id",
		Name: "Alliance id", Description: "The game id of the nation's alliance"},
	{Type: discordgo.ApplicationRoleConnectionMetadataIntegerGreaterThanOrEqual, Key: "cities",
		Name: "Cities", Description: "At least this many cities"},
	{Type: discordgo.ApplicationRoleConnectionMetadataIntegerGreaterThanOrEqual, Key: "score",
		Name: "Score", Description: "At least this nation score"},
}

// connectRole keeps the user's grant (sealed) and writes their role
// connection.
func (s *Site) connectRole(ctx context.Context, u store.User, tok *oauth2.Token) error {
	if err := s.opts.OAuth.saveGrant(ctx, u.ID, u.KeySalt, tok); err != nil {
		return err
	}
	return s.opts.Linked.SyncRoleConnection(ctx, u.ID)
}
