package fakediscord_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
)

// TestCommandRules: the fake refuses, as Discord does, a bulk overwrite
// holding one command Discord would refuse, and keeps the last good set.
func TestCommandRules(t *testing.T) {
	fake, err := fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	overwrite := func(cmds ...*discordgo.ApplicationCommand) int {
		body, err := json.Marshal(cmds)
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPut, fake.URL+"/api/v9/applications/"+fakediscord.AppID+"/guilds/"+fakediscord.GuildID+"/commands", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bot "+fakediscord.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	str := func(name string, required bool) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: name, Description: "d", Required: required}
	}
	sub := func(name string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: "d", Options: opts}
	}
	good := &discordgo.ApplicationCommand{Name: "good", Description: "d", Options: []*discordgo.ApplicationCommandOption{sub("a", str("x", true), str("y", false))}}
	require.Equal(t, http.StatusOK, overwrite(good))

	many := func(n int) []*discordgo.ApplicationCommandOption {
		var opts []*discordgo.ApplicationCommandOption
		for i := range n {
			opts = append(opts, str(strings.Repeat("o", i+1), false))
		}
		return opts
	}
	var choices []*discordgo.ApplicationCommandOptionChoice
	for i := range 26 {
		choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: strings.Repeat("c", i+1), Value: i})
	}
	var long []*discordgo.ApplicationCommandOption
	for i := range 25 {
		s := sub(strings.Repeat("s", i+1), &discordgo.ApplicationCommandOption{
			Type: discordgo.ApplicationCommandOptionString, Name: "x", Description: strings.Repeat("d", 100)})
		s.Description = strings.Repeat("d", 100)
		long = append(long, s)
	}
	for name, bad := range map[string]*discordgo.ApplicationCommand{
		"upper case name":          {Name: "Bad", Description: "d"},
		"name too long":            {Name: strings.Repeat("n", 33), Description: "d"},
		"no description":           {Name: "bad"},
		"description too long":     {Name: "bad", Description: strings.Repeat("d", 101)},
		"26 options":               {Name: "bad", Description: "d", Options: many(26)},
		"required after optional":  {Name: "bad", Description: "d", Options: []*discordgo.ApplicationCommandOption{str("a", false), str("b", true)}},
		"subcommand beside option": {Name: "bad", Description: "d", Options: []*discordgo.ApplicationCommandOption{sub("a"), str("b", false)}},
		"subcommand in subcommand": {Name: "bad", Description: "d", Options: []*discordgo.ApplicationCommandOption{sub("a", sub("b"))}},
		"26 choices": {Name: "bad", Description: "d", Options: []*discordgo.ApplicationCommandOption{{
			Type: discordgo.ApplicationCommandOptionInteger, Name: "n", Description: "d", Choices: choices}}},
		"over 4000 characters": {Name: "bad", Description: "d", Options: long},
		"same name twice":      good,
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, http.StatusOK, overwrite(good))
			require.Equal(t, http.StatusBadRequest, overwrite(good, bad))
			require.Len(t, fake.Commands(fakediscord.GuildID), 1, "the last good set stays")
		})
	}
}
