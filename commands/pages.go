package commands

import (
	"strconv"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bot"
)

// none stands for an absent filter in a page's custom_id.
const none = "-"

// maxPage bounds the page a custom_id may ask for.
const maxPage = 1000

// pager is the Previous/Next row of a paginated view. The custom_ids carry
// the caller (only they may turn the pages), the page and the view's
// filters, so that each page is a fresh read, checked like the command.
func pager(route, owner string, page int, more bool, args ...string) []discordgo.MessageComponent {
	if page == 0 && !more {
		return nil
	}
	id := func(p int) string {
		return bot.CustomID(route, append([]string{owner, strconv.Itoa(max(p, 0))}, args...)...)
	}
	prev := discordgo.Button{Label: "Previous", Style: discordgo.SecondaryButton, CustomID: id(page - 1), Disabled: page == 0}
	next := discordgo.Button{Label: "Next", Style: discordgo.SecondaryButton, CustomID: id(page + 1), Disabled: !more}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{prev, next}}}
}

// turnPage reads the page a Previous/Next button asks for; its route is
// OwnerOnly, so only the user who ran the command gets here.
func turnPage(req *call) (int, error) {
	page, err := strconv.Atoi(req.Var("page"))
	if err != nil || page < 0 || page > maxPage {
		return 0, bot.UserError("This page is broken: run the command again.")
	}
	return page, nil
}

// asPageTurn makes a page replace the message its buttons sit on.
func asPageTurn(resp *bot.Response) *bot.Response {
	if resp != nil {
		resp.Type = bot.TypeUpdate
	}
	return resp
}
