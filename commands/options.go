package commands

import (
	"strings"

	"github.com/bwmarrin/discordgo"
)

// sub is a subcommand of a command's definition.
func sub(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
}

// choices are an option's fixed values, named with spaces for underscores.
func choices(values ...string) []*discordgo.ApplicationCommandOptionChoice {
	out := make([]*discordgo.ApplicationCommandOptionChoice, len(values))
	for i, v := range values {
		out[i] = &discordgo.ApplicationCommandOptionChoice{Name: strings.ReplaceAll(v, "_", " "), Value: v}
	}
	return out
}
