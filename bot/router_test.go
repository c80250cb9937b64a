package bot

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
)

// testCommands mirrors the shape of the member commands: a subcommand with
// autocomplete, options of several types, a modal and a button with a
// variable. Every handler records the request it got.
func testCommands(got **Request) []Command {
	record := func(_ context.Context, req *Request) (*Response, error) {
		*got = req
		return Reply("ok " + req.Route), nil
	}
	complete := func(_ context.Context, req *Request) (*Response, error) {
		*got = req
		return Choices(&discordgo.ApplicationCommandOptionChoice{Name: "Rose", Value: "Rose"}), nil
	}
	return []Command{
		{
			Definition: &discordgo.ApplicationCommand{Name: "alliance", Description: "Alliances", Options: []*discordgo.ApplicationCommandOption{{
				Type: discordgo.ApplicationCommandOptionSubCommand, Name: "info", Description: "An alliance",
				Options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "alliance", Description: "Name or id", Autocomplete: true}},
			}}},
			Routes: []Route{{Path: "/alliance/info", Handler: record, Autocomplete: complete}},
		},
		{
			Definition: &discordgo.ApplicationCommand{Name: "nation", Description: "A nation", Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "nation", Description: "Name or id", Autocomplete: true},
				{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: "A linked user"},
			}},
			Routes: []Route{{Path: "/nation", Handler: record, Autocomplete: complete}},
		},
		{
			Definition: &discordgo.ApplicationCommand{Name: "link", Description: "Link your nation"},
			Routes: []Route{
				{Path: "/link", Handler: record, Ephemeral: true},
				{Path: "link/submit", Handler: record, Ephemeral: true},
			},
		},
		{
			Definition: &discordgo.ApplicationCommand{Name: "delete-account", Description: "Delete your data"},
			Routes: []Route{
				{Path: "/delete-account", Handler: record, Ephemeral: true},
				{Path: "account/delete/{token}", Handler: record},
				{Path: "account/delete/cancel", Handler: record},
			},
		},
	}
}

func TestRouter(t *testing.T) {
	t.Parallel()
	var got *Request
	r := NewRouter(testCommands(&got)...)
	load := func(name string) *discordgo.Interaction {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		var i discordgo.Interaction
		require.NoError(t, json.Unmarshal(raw, &i))
		return &i
	}

	t.Run("SubcommandWithOptions", func(t *testing.T) {
		resp, err := r.Serve(context.Background(), load("alliance_info.json"))
		require.NoError(t, err)
		require.Equal(t, "ok /alliance/info", resp.Content)
		require.Equal(t, "/alliance/info", got.Route)
		require.Equal(t, "200000000000000001", got.User.ID)
		require.Equal(t, "player.one", got.User.Username)
		require.Equal(t, "300000000000000001", got.GuildID)
		require.NotNil(t, got.Member)
		require.False(t, got.Ephemeral)
		var opts struct {
			Alliance string `discord:"alliance"`
		}
		require.NoError(t, got.Options(&opts))
		require.Equal(t, "Rose", opts.Alliance)
	})

	t.Run("InDMWithResolvedUser", func(t *testing.T) {
		_, err := r.Serve(context.Background(), load("nation_user_dm.json"))
		require.NoError(t, err)
		require.Equal(t, "/nation", got.Route)
		require.Equal(t, "200000000000000002", got.User.ID)
		require.Nil(t, got.Member)
		require.Empty(t, got.GuildID)
		var opts struct {
			Nation   string          `discord:"nation"`
			NationID int64           `discord:"nation"`
			User     *discordgo.User `discord:"user"`
			UserID   string          `discord:"user"`
			Member   *discordgo.Member
		}
		require.NoError(t, got.Options(&opts))
		require.Equal(t, "12345", opts.Nation)
		require.Equal(t, int64(12345), opts.NationID)
		require.Equal(t, "third", opts.User.Username)
		require.Equal(t, "200000000000000003", opts.UserID)
	})

	t.Run("Autocomplete", func(t *testing.T) {
		resp, err := r.Serve(context.Background(), load("nation_autocomplete.json"))
		require.NoError(t, err)
		require.Equal(t, TypeChoices, resp.Type)
		require.Equal(t, "/nation", got.Route)
		require.Equal(t, "nation", got.Focused)
		var opts struct {
			Nation string `discord:"nation"`
		}
		require.NoError(t, got.Options(&opts))
		require.Equal(t, "Ros", opts.Nation)
	})

	t.Run("ButtonWithVariable", func(t *testing.T) {
		_, err := r.Serve(context.Background(), load("account_delete_button.json"))
		require.NoError(t, err)
		require.Equal(t, "account/delete/{token}", got.Route)
		require.Equal(t, "k3J9xQ", got.Var("token"))
	})

	t.Run("ExactBeatsPattern", func(t *testing.T) {
		_, err := r.Serve(context.Background(), fakediscord.Component("account/delete/cancel"))
		require.NoError(t, err)
		require.Equal(t, "account/delete/cancel", got.Route)
		require.Empty(t, got.Var("token"))
	})

	t.Run("ModalSubmit", func(t *testing.T) {
		_, err := r.Serve(context.Background(), load("link_submit.json"))
		require.NoError(t, err)
		require.Equal(t, "link/submit", got.Route)
		require.True(t, got.Ephemeral)
		var form struct {
			Key string `discord:"key"`
		}
		require.NoError(t, got.Options(&form))
		require.Equal(t, "0123456789abcdef0123", form.Key)
	})

	t.Run("Unknown", func(t *testing.T) {
		for _, i := range []*discordgo.Interaction{
			load("retired_command.json"),
			fakediscord.Command("/alliance/retired"),
			fakediscord.Component("account/delete"),
			fakediscord.Component("account/delete/x/y"),
			fakediscord.Component("account/delete/"),
			fakediscord.Autocomplete("/link"), // /link has no autocomplete
		} {
			got = nil
			_, err := r.Serve(context.Background(), i)
			require.Equal(t, OutcomeUserError, outcome(err), i.Data)
			require.Nil(t, got)
		}
	})

	t.Run("Definitions", func(t *testing.T) {
		var names []string
		for _, d := range r.Definitions() {
			names = append(names, d.Name)
		}
		require.Equal(t, []string{"alliance", "nation", "link", "delete-account"}, names)
	})
}

// TestPreferPrivate: the router's middleware runs for every handler, the
// "no user" and unknown ones included, and a caller's preference for
// private replies makes the reply private.
func TestPreferPrivate(t *testing.T) {
	t.Parallel()
	var got *Request
	r := NewRouter(testCommands(&got)...)
	var seen []string // the routes the router's middleware saw
	r.Use(func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Response, error) {
			seen = append(seen, req.Route)
			if req.User != nil && req.User.ID == "200000000000000002" {
				req.PreferPrivate()
			}
			return next(ctx, req)
		}
	})

	resp, err := r.Serve(context.Background(), fakediscord.Command("/nation"))
	require.NoError(t, err)
	require.False(t, resp.Ephemeral)

	other := fakediscord.Command("/nation")
	other.Member.User.ID = "200000000000000002"
	resp, err = r.Serve(context.Background(), other)
	require.NoError(t, err)
	require.True(t, resp.Ephemeral, "the caller prefers private replies")

	_, err = r.Serve(context.Background(), fakediscord.Command("/retired"))
	require.Equal(t, OutcomeUserError, outcome(err))

	noUser := fakediscord.Command("/nation")
	noUser.Member, noUser.User = nil, nil
	_, err = r.Serve(context.Background(), noUser)
	require.ErrorContains(t, err, "has no user")

	require.Equal(t, []string{"/nation", "/nation", RouteUnknown, RouteUnknown}, seen)
}

func TestRouterRejectsBadTables(t *testing.T) {
	t.Parallel()
	h := func(context.Context, *Request) (*Response, error) { return Reply("x"), nil }
	group := &discordgo.ApplicationCommand{Name: "alliance", Options: []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "info"},
		{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "bank", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "history"},
		}},
	}}
	require.NotPanics(t, func() {
		NewRouter(Command{Definition: group, Routes: []Route{
			{Path: "/alliance/info", Handler: h}, {Path: "/alliance/bank/history", Handler: h},
		}})
	})
	for name, cmds := range map[string][]Command{
		"missing subcommand": {{Definition: group, Routes: []Route{{Path: "/alliance/info", Handler: h}}}},
		"group as a leaf": {{Definition: group, Routes: []Route{
			{Path: "/alliance/info", Handler: h}, {Path: "/alliance/bank", Handler: h},
		}}},
		"duplicate custom id": {{Routes: []Route{{Path: "a/{x}", Handler: h}, {Path: "a/{x}", Handler: h}}}},
		"empty segment":       {{Routes: []Route{{Path: "a//b", Handler: h}}}},
		"no handler":          {{Routes: []Route{{Path: "a/b"}}}},
	} {
		require.Panics(t, func() { NewRouter(cmds...) }, name)
	}
}

func TestCustomID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "account/delete/abc", CustomID("account/delete/{token}", "abc"))
	require.Equal(t, "link/submit", CustomID("link/submit"))
	require.Panics(t, func() { CustomID("account/delete/{token}") })
	require.Panics(t, func() { CustomID("account/delete/{token}", "a/b") })
	require.Panics(t, func() { CustomID("account/delete/{token}", "a", "b") })
}

func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	req := newRequest(fakediscord.Command("/nation", fakediscord.Option("nation", "Rose"), fakediscord.Option("cities", 12)))
	var wrong struct {
		Nation bool `discord:"nation"`
	}
	require.Error(t, req.Options(&wrong))
	var unsupported struct {
		Nation []string `discord:"nation"`
	}
	require.Error(t, req.Options(&unsupported))
	require.Error(t, req.Options(wrong))
	var ok struct {
		Cities  int     `discord:"cities"`
		Score   float64 `discord:"cities"`
		Absent  string  `discord:"absent"`
		Untaged string
	}
	ok.Absent = "kept"
	require.NoError(t, req.Options(&ok))
	require.Equal(t, 12, ok.Cities)
	require.Equal(t, 12.0, ok.Score)
	require.Equal(t, "kept", ok.Absent)
}
