package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/keys"
	"pnwbot/store"
)

const (
	routeAllianceMove = "alliance/move/{token}"
	moveConfirmTTL    = 2 * time.Minute
)

// allianceSetup binds this server to the caller's alliance and makes the
// caller its first admin, once the game says the caller leads it
// (access.Changes.Setup); an alliance bound to another server is moved
// here after a confirmation.
func (d *Deps) allianceSetup(ctx context.Context, req *call) (*bot.Response, error) {
	if req.GuildID == "" {
		return nil, errNotInServer
	}
	u, err := d.findUser(req)
	if errors.Is(err, errNoAccount) {
		return nil, errSetupNeedsLink
	} else if err != nil {
		return nil, err
	}
	lead, err := d.leadership(ctx, u)
	if err != nil {
		return nil, err
	}
	a, err := d.Access.Setup(ctx, u.ID, lead, req.GuildID)
	if errors.Is(err, access.ErrBoundElsewhere) {
		expires := d.Now().Add(moveConfirmTTL)
		token := d.Keys.SignToken(moveSubject(u.ID, lead.AllianceID, req.GuildID), expires)
		return &bot.Response{
			Ephemeral: true,
			Content: fmt.Sprintf("**%s** is bound to another Discord server. Move it to this one? Its managers, keys and settings move with it; "+
				"the other server loses its alliance commands. This button expires <t:%d:R>.", a.Name, expires.Unix()),
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: "Move it here", Style: discordgo.DangerButton, CustomID: bot.CustomID(routeAllianceMove, token)},
				discordgo.Button{Label: "Cancel", Style: discordgo.SecondaryButton, CustomID: routeAllianceCancel},
			}}},
		}, nil
	} else if err != nil {
		return nil, setupError(err, lead, a)
	}
	return &bot.Response{Content: fmt.Sprintf("**%s** is set up in this server, and you are its admin. Next: add managers with /alliance managers add, "+
		"and link an alliance key with /alliance key. Its public page slug is `%s` (/alliance settings).", a.Name, a.RouteSlug)}, nil
}

const routeAllianceCancel = "alliance/cancel"

// moveSubject is what a move's confirmation token is for: this user moving
// the game's alliance allianceID to this server.
func moveSubject(userID, allianceID int64, guildID string) string {
	return fmt.Sprintf("alliance-move:%d:%d:%s", userID, allianceID, guildID)
}

// allianceMoveConfirm moves the alliance to this server, after asking the
// game again that the caller still leads it.
func (d *Deps) allianceMoveConfirm(ctx context.Context, req *call) (*bot.Response, error) {
	u, err := d.findUser(req)
	if err != nil {
		return nil, err
	}
	lead, err := d.leadership(ctx, u)
	if err != nil {
		return nil, err
	}
	expired := updated("This confirmation has expired or is not yours. Run /alliance setup again.")
	if !d.Keys.VerifyToken(req.Var("token"), moveSubject(u.ID, lead.AllianceID, req.GuildID), d.Now()) {
		return expired, nil
	}
	a, err := d.Access.Move(ctx, u.ID, lead, req.GuildID)
	if errors.Is(err, store.ErrNotFound) {
		return expired, nil
	} else if err != nil {
		return nil, setupError(err, lead, a)
	}
	return updated(fmt.Sprintf("**%s** now belongs to this server; its managers keep their roles.", a.Name)), nil
}

func (d *Deps) allianceCancel(context.Context, *call) (*bot.Response, error) {
	return updated("Cancelled: nothing was changed."), nil
}

var errSetupNeedsLink = bot.UserError("Link your nation with /link first: setup asks the game, with your own key, whether you lead the alliance.")

// leadership asks the game, with the caller's own key and never from the
// cache, which alliance the caller's nation leads or is heir of; anything
// else is refused (access.Changes.Eligible, audited).
func (d *Deps) leadership(ctx context.Context, u store.User) (access.Leader, error) {
	if u.PnwNationID == nil || u.PnwApiKey == nil {
		return access.Leader{}, errSetupNeedsLink
	}
	n, err := d.GameKeys.OwnNation(ctx, u)
	switch {
	case errors.Is(err, keys.ErrKeyRefused):
		return access.Leader{}, bot.UserError("The game refused your stored key: run /link with your current key first. Nothing was changed.")
	case errors.Is(err, keys.ErrKeyMoved):
		return access.Leader{}, bot.UserError("Your stored key now belongs to another nation: run /link again. Nothing was changed.")
	case err != nil:
		return access.Leader{}, gameError(err, "Nothing was changed.")
	}
	l := access.Leader{Position: n.AlliancePosition}
	l.AllianceID, _ = strconv.ParseInt(n.AllianceId, 10, 64)
	if err := d.Access.Eligible(ctx, u.ID, l); err != nil {
		return l, setupError(err, l, store.Alliance{})
	}
	r, err := d.Game.Alliance(ctx, int(l.AllianceID))
	if err != nil {
		return l, gameError(err, "Nothing was changed.")
	}
	l.Name, l.Acronym = r.Data.Name, r.Data.Acronym
	return l, nil
}

// setupError words a refusal of access.Changes.Setup or Move about
// alliance a, which the caller's nation l is in.
func setupError(err error, l access.Leader, a store.Alliance) error {
	switch {
	case errors.Is(err, access.ErrNotEligible):
		return bot.UserErrorf("The game says your nation is %s, not the leader or heir of an alliance: only they can set an alliance up or move it.",
			positionText(l))
	case errors.Is(err, access.ErrServerBound):
		return bot.UserErrorf("This server is already bound to %s, and a server binds one alliance. Its leader or heir can move it to another server first.", a.Name)
	case errors.Is(err, access.ErrSetUpAlready):
		return bot.UserErrorf("**%s** is set up in this server already: only the game's current leader can run setup again. "+
			"Its admins manage roles with /alliance managers. Nothing was changed.", a.Name)
	case errors.Is(err, access.ErrMayNotMove):
		return bot.UserErrorf("**%s** is bound to another Discord server: only the game's leader or one of its admins in pnwbot can move it. Nothing was changed.", a.Name)
	case errors.Is(err, access.ErrGuildTaken):
		return bot.UserError("This server was bound to another alliance meanwhile. Nothing was changed.")
	}
	return err
}

func positionText(l access.Leader) string {
	if l.AllianceID == 0 {
		return "in no alliance"
	}
	return fmt.Sprintf("%s of alliance %d", capitalize(string(l.Position)), l.AllianceID)
}
