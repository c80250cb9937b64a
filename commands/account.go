package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/store"
)

// deleteConfirmTTL is how long the confirmation button works.
const deleteConfirmTTL = 2 * time.Minute

const (
	routeDeleteConfirm = "account/delete/{token}"
	routeDeleteCancel  = "account/cancel"
)

func (d *Deps) deleteAccountCommand() bot.Command {
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "delete-account",
			Description: "Delete your pnwbot account and every piece of personal data it holds",
		},
		Routes: d.routes(
			// Without an account there is nothing to delete: they check the
			// permission once they know there is one.
			route{Path: "/delete-account", Handler: d.deleteAccount, Ephemeral: true},
			route{Path: routeDeleteConfirm, Handler: d.deleteAccountConfirm, Ephemeral: true},
			route{Path: routeDeleteCancel, Handler: d.deleteAccountCancel, Ephemeral: true},
		),
	}
}

func deleteSubject(userID int64) string { return "delete-account:" + strconv.FormatInt(userID, 10) }

func (d *Deps) deleteAccount(ctx context.Context, req *call) (*bot.Response, error) {
	u, err := d.findUser(req)
	if errors.Is(err, errNoAccount) {
		return &bot.Response{Content: "pnwbot holds no data about you: there is nothing to delete.", Ephemeral: true}, nil
	} else if err != nil {
		return nil, err
	}
	if err := d.allow(ctx, req, u, access.Member(access.DeleteAccount)); err != nil {
		return nil, err
	}
	expires := d.Now().Add(deleteConfirmTTL)
	token := d.Keys.SignToken(deleteSubject(u.ID), expires)
	return &bot.Response{
		Ephemeral: true,
		Embeds: []*discordgo.MessageEmbed{{
			Title: "Delete your pnwbot account?",
			Description: "This deletes your linked nation, your stored API keys, your alliance roles, " +
				"your sessions and your preferences. Audit records stay, without your name. " +
				"It cannot be undone.\n\nThis button expires <t:" + strconv.FormatInt(expires.Unix(), 10) + ":R>.",
			Color: colorDanger,
		}},
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Delete my account", Style: discordgo.DangerButton, CustomID: bot.CustomID(routeDeleteConfirm, token)},
			discordgo.Button{Label: "Cancel", Style: discordgo.SecondaryButton, CustomID: routeDeleteCancel},
		}}},
	}, nil
}

func (d *Deps) deleteAccountConfirm(ctx context.Context, req *call) (*bot.Response, error) {
	u, err := d.findUser(req)
	if errors.Is(err, errNoAccount) {
		return updated("Your account is already deleted."), nil
	} else if err != nil {
		return nil, err
	}
	// The token names the user it was made for, so a button shown to one
	// user cannot delete another's account, and it stops working on expiry.
	if !d.Keys.VerifyToken(req.Var("token"), deleteSubject(u.ID), d.Now()) {
		return updated("This confirmation has expired. Run /delete-account again."), nil
	}
	if err := d.allow(ctx, req, u, access.Member(access.DeleteAccount)); err != nil {
		return nil, err
	}
	// Discord keeps a role connection until it is emptied; the grant to
	// empty it goes with the account.
	if d.LinkedRoles != nil {
		if err := d.LinkedRoles.ForgetRoleConnection(ctx, u.ID); err != nil {
			d.Logger.WarnContext(ctx, "empty Linked Roles connection", "user_id", u.ID, "error", err)
		}
	}
	err = d.Access.DeleteAccount(ctx, u)
	var sole *access.SoleAdmin
	if errors.As(err, &sole) { // audited by DeleteAccount
		return updated(fmt.Sprintf("You are the only admin of %s: make another manager admin first (/alliance managers role), "+
			"or ask pnwbot's system admins. Your account stays as it is.", strings.Join(sole.Alliances, ", "))), nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return updated("Your account is already deleted."), nil
	} else if err != nil {
		return nil, err
	}
	return updated("Your account and every piece of personal data pnwbot held about you are deleted."), nil
}

func (d *Deps) deleteAccountCancel(context.Context, *call) (*bot.Response, error) {
	return updated("Cancelled: nothing was deleted."), nil
}

// updated replaces the message a button sits on, removing its buttons.
func updated(content string) *bot.Response {
	return &bot.Response{Type: bot.TypeUpdate, Content: content, Components: []discordgo.MessageComponent{}, Embeds: []*discordgo.MessageEmbed{}}
}
