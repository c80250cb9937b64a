package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
)

const (
	routeAllianceMove = "alliance/move/{token}"
	moveConfirmTTL    = 2 * time.Minute
)

// allianceSetup binds this server to the caller's alliance and makes the
// caller its first admin, once the game says the caller leads it.
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
	lead, err := d.leadership(ctx, req, u)
	if err != nil {
		return nil, err
	}
	here, err := d.Store.AllianceGetByGuild(ctx, &req.GuildID)
	switch {
	case err == nil && here.PnwAllianceID != lead.allianceID:
		d.audit(ctx, setupRefusal(u, lead, "server bound to another alliance"))
		return nil, bot.UserErrorf("This server is already bound to %s, and a server binds one alliance. Its leader or heir can move it to another server first.", here.Name)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("server alliance: %w", err)
	}
	existing, err := d.Store.AllianceGetByPnwID(ctx, lead.allianceID)
	switch {
	case err == nil && (existing.DiscordGuildID == nil || *existing.DiscordGuildID == req.GuildID) && lead.position != pnw.AlliancePositionEnumLEADER:
		// Set up already: running it again would make the caller admin
		// again, undoing a demotion; only the game's leader may.
		d.audit(ctx, setupRefusal(u, lead, "set up already: not the leader"))
		return nil, bot.UserErrorf("**%s** is set up in this server already: only the game's current leader can run setup again. "+
			"Its admins manage roles with /alliance managers. Nothing was changed.", existing.Name)
	case err == nil && existing.DiscordGuildID != nil && *existing.DiscordGuildID != req.GuildID:
		if err := d.mayMove(ctx, u, lead, existing); err != nil {
			return nil, err
		}
		// Bound to another server: moving it is confirmed with a button.
		expires := d.Now().Add(moveConfirmTTL)
		token := d.Keys.SignToken(moveSubject(u.ID, existing.ID, req.GuildID), expires)
		return &bot.Response{
			Ephemeral: true,
			Content: fmt.Sprintf("**%s** is bound to another Discord server. Move it to this one? Its managers, keys and settings move with it; "+
				"the other server loses its alliance commands. This button expires <t:%d:R>.", existing.Name, expires.Unix()),
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: "Move it here", Style: discordgo.DangerButton, CustomID: bot.CustomID(routeAllianceMove, token)},
				discordgo.Button{Label: "Cancel", Style: discordgo.SecondaryButton, CustomID: routeAllianceCancel},
			}}},
		}, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("alliance: %w", err)
	}
	// A new alliance, or the game's leader in its bound server: admin.
	a, err := d.bindAlliance(ctx, req, u, lead, nil)
	if err != nil {
		return nil, err
	}
	return &bot.Response{Content: fmt.Sprintf("**%s** is set up in this server, and you are its admin. Next: add managers with /alliance managers add, "+
		"and link an alliance key with /alliance key. Its public page slug is `%s` (/alliance settings).", a.Name, a.RouteSlug)}, nil
}

const routeAllianceCancel = "alliance/cancel"

// mayMove lets the game's leader, or a leader or heir who is an admin of
// the alliance in pnwbot, move its binding; a refusal is audited.
func (d *Deps) mayMove(ctx context.Context, u store.User, l leader, a store.Alliance) error {
	if l.position == pnw.AlliancePositionEnumLEADER {
		return nil
	}
	m, err := d.Store.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: a.ID})
	switch {
	case err == nil && m.Role == access.Admin:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("manager: %w", err)
	}
	d.audit(ctx, setupRefusal(u, l, "move: neither the leader nor an admin"))
	return bot.UserErrorf("**%s** is bound to another Discord server: only the game's leader or one of its admins in pnwbot can move it. Nothing was changed.", a.Name)
}

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
	lead, err := d.leadership(ctx, req, u)
	if err != nil {
		return nil, err
	}
	existing, err := d.Store.AllianceGetByPnwID(ctx, lead.allianceID)
	if err != nil || !d.Keys.VerifyToken(req.Var("token"), moveSubject(u.ID, existing.ID, req.GuildID), d.Now()) {
		return updated("This confirmation has expired or is not yours. Run /alliance setup again."), nil
	}
	if err := d.mayMove(ctx, u, lead, existing); err != nil {
		return nil, err
	}
	if _, err := d.bindAlliance(ctx, req, u, lead, existing.DiscordGuildID); err != nil {
		return nil, err
	}
	return updated(fmt.Sprintf("**%s** now belongs to this server; its managers keep their roles.", existing.Name)), nil
}

func (d *Deps) allianceCancel(context.Context, *call) (*bot.Response, error) {
	return updated("Cancelled: nothing was changed."), nil
}

var errSetupNeedsLink = bot.UserError("Link your nation with /link first: setup asks the game, with your own key, whether you lead the alliance.")

// leader is what the game says of the caller's nation.
type leader struct {
	nationID   int64
	allianceID int64
	position   pnw.AlliancePositionEnum
	name       string // the alliance's
	acronym    string
}

// leadership asks the game, with the caller's own key and never from the
// cache, which alliance the caller's nation leads; anything but its LEADER
// or HEIR is refused, and the refusal audited.
func (d *Deps) leadership(ctx context.Context, req *call, u store.User) (leader, error) {
	if u.PnwNationID == nil || u.PnwApiKey == nil {
		return leader{}, errSetupNeedsLink
	}
	if u.KeyRevokedAt != nil {
		return leader{}, bot.UserError("The game refused your stored key: run /link with your current key first.")
	}
	key, err := d.GameKeys.OpenMember(u)
	if err != nil {
		return leader{}, fmt.Errorf("open key: %w", err)
	}
	info, err := d.Game.Me(ctx, key)
	if errors.Is(err, pnw.ErrInvalidKey) {
		return leader{}, bot.UserError("The game refused your stored key: run /link with your current key first. Nothing was changed.")
	} else if err != nil {
		return leader{}, gameError(err, "Nothing was changed.")
	}
	l := leader{position: info.Nation.AlliancePosition}
	l.nationID, _ = strconv.ParseInt(info.Nation.Id, 10, 64)
	l.allianceID, _ = strconv.ParseInt(info.Nation.AllianceId, 10, 64)
	if l.nationID != *u.PnwNationID {
		return l, bot.UserError("Your stored key now belongs to another nation: run /link again.")
	}
	if l.allianceID == 0 || (l.position != pnw.AlliancePositionEnumLEADER && l.position != pnw.AlliancePositionEnumHEIR) {
		d.audit(ctx, setupRefusal(u, l, "not leader or heir"))
		return l, bot.UserErrorf("The game says your nation is %s, not the leader or heir of an alliance: only they can set an alliance up or move it.",
			positionText(l))
	}
	r, err := d.Game.Alliance(ctx, int(l.allianceID))
	if err != nil {
		return l, gameError(err, "Nothing was changed.")
	}
	l.name, l.acronym = r.Data.Name, r.Data.Acronym
	return l, nil
}

func positionText(l leader) string {
	if l.allianceID == 0 {
		return "in no alliance"
	}
	return fmt.Sprintf("%s of alliance %d", capitalize(string(l.position)), l.allianceID)
}

func setupRefusal(u store.User, l leader, reason string) audit.Entry {
	return audit.Entry{User: &u.ID, Action: "alliance.setup", Resource: "alliance", ResourceID: strconv.FormatInt(l.allianceID, 10), Failed: true,
		New: map[string]any{"reason": reason, "position": l.position}}
}

// bindAlliance binds the alliance l leads to this server and makes the
// caller its admin (access.Changes.Bind). fromGuild is the server it moves
// from, if any: a move keeps the roles, the caller's too.
func (d *Deps) bindAlliance(ctx context.Context, req *call, u store.User, l leader, fromGuild *string) (store.Alliance, error) {
	a, err := d.Access.Bind(ctx, u.ID, access.Leader{AllianceID: l.allianceID, Name: l.name, Acronym: l.acronym, Position: string(l.position)},
		req.GuildID, fromGuild)
	if errors.Is(err, access.ErrGuildTaken) {
		return a, bot.UserError("This server was bound to another alliance meanwhile. Nothing was changed.")
	}
	return a, err
}
