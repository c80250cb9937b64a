package bot_test

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
)

// A command file in package commands: the definition beside its handlers, a
// subcommand, a modal, and a button whose custom_id carries a variable. Real
// handlers are methods on, or closures over, a dependencies struct.
func Example() {
	info := func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		var opts struct {
			Alliance string `discord:"alliance"`
		}
		if err := req.Options(&opts); err != nil {
			return nil, err
		}
		if opts.Alliance == "" {
			return nil, bot.UserError("Name an alliance, or /link your nation first.")
		}
		return &bot.Response{
			Embeds: []*discordgo.MessageEmbed{{Title: opts.Alliance}},
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: "Members", Style: discordgo.SecondaryButton, CustomID: bot.CustomID("alliance/members/{id}", "790")},
			}}},
		}, nil
	}
	members := func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		return &bot.Response{Type: bot.TypeUpdate, Content: "Members of alliance " + req.Var("id")}, nil
	}
	link := func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		return bot.Modal("link/submit", "Link your nation", &discordgo.TextInput{
			CustomID: "key", Label: "API key", Style: discordgo.TextInputShort, Required: true,
		}), nil
	}
	submit := func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		var form struct {
			Key string `discord:"key"`
		}
		if err := req.Options(&form); err != nil {
			return nil, err
		}
		return bot.Reply("Linked."), nil
	}
	router := bot.NewRouter(
		bot.Command{
			Definition: &discordgo.ApplicationCommand{Name: "alliance", Description: "Alliances", Options: []*discordgo.ApplicationCommandOption{{
				Type: discordgo.ApplicationCommandOptionSubCommand, Name: "info", Description: "An alliance's card",
				Options: []*discordgo.ApplicationCommandOption{{
					Type: discordgo.ApplicationCommandOptionString, Name: "alliance", Description: "Name or id",
				}},
			}}},
			Routes: []bot.Route{
				{Path: "/alliance/info", Handler: info},
				{Path: "alliance/members/{id}", Handler: members},
			},
		},
		bot.Command{
			Definition: &discordgo.ApplicationCommand{Name: "link", Description: "Link your nation"},
			Routes: []bot.Route{
				{Path: "/link", Handler: link, Ephemeral: true},
				{Path: "link/submit", Handler: submit, Ephemeral: true},
			},
		},
	)

	// Handler tests feed interactions to the router.
	resp, _ := router.Serve(context.Background(), fakediscord.Command("/alliance/info", fakediscord.Option("alliance", "Rose")))
	fmt.Println(resp.Embeds[0].Title)
	resp, _ = router.Serve(context.Background(), fakediscord.Component("alliance/members/790"))
	fmt.Println(resp.Content)
	resp, _ = router.Serve(context.Background(), fakediscord.Command("/link"))
	fmt.Println(resp.Type == bot.TypeModal, resp.CustomID)
	// Output:
	// Rose
	// Members of alliance 790
	// true link/submit
}
