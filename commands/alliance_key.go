package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/store"
)

// Messenger sends direct messages; the bot implements it.
type Messenger interface {
	DirectMessage(ctx context.Context, userID string, msg *bot.Response) error
}

const (
	routeKeyOpen   = "alliance/key/open/{alliance}"
	routeKeySubmit = "alliance/key/submit/{alliance}"
	routeKeyForget = "alliance/key/forget/{alliance}"
)

// allianceKey shows the caller's alliance key status, offers to forget the
// key, and sends the form to link one in a direct message, so that the key
// is never typed in a channel.
func (d *Deps) allianceKey(ctx context.Context, req *call) (*bot.Response, error) {
	a, err := d.serverAlliance(ctx, req.Request)
	if err != nil {
		return nil, err
	}
	u, m, err := d.activeManager(ctx, req, a, "alliance.key")
	if err != nil {
		return nil, err
	}
	resp := &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{{
		Title: truncate("Your alliance key for "+a.Name, 256), Color: colorDefault,
		Fields: []*discordgo.MessageEmbedField{{Name: "Status", Value: fieldValue(d.GameKeys.ManagerStatus(ctx, u, m).Text(discordTime))}},
	}}}
	if m.ManagerApiKey != nil {
		resp.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Forget my key", Style: discordgo.DangerButton, CustomID: bot.CustomID(routeKeyForget, strconv.FormatInt(a.ID, 10))},
		}}}
	}
	dm := &bot.Response{
		Content: fmt.Sprintf("To link your alliance key for **%s**, press the button and paste an API key of your own nation "+
			"(in the game: Account, then API Key). It is stored encrypted; the bot uses it to read %s's bank for its managers.", a.Name, a.Name),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Link a key", Style: discordgo.PrimaryButton, CustomID: bot.CustomID(routeKeyOpen, strconv.FormatInt(a.ID, 10))},
		}}},
	}
	note := "I sent you a direct message with a button to link a key."
	if d.DM == nil {
		return nil, errors.New("no messenger for direct messages")
	}
	if err := d.DM.DirectMessage(ctx, req.User.ID, dm); err != nil {
		d.Logger.WarnContext(ctx, "alliance key: direct message", "user_id", u.ID, "error", err)
		note = "I could not send you a direct message: allow direct messages from this server's members (Privacy Settings) and run /alliance key again."
	}
	resp.Embeds[0].Description = note
	return resp, nil
}

// activeManager returns the caller's account and manager row in a; anyone
// else is refused, and the refusal audited as action.
func (d *Deps) activeManager(ctx context.Context, req *call, a store.Alliance, action string) (store.User, store.AllianceManager, error) {
	u, err := d.findUser(req)
	if err != nil {
		return u, store.AllianceManager{}, err
	}
	m, err := d.Store.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: a.ID})
	if errors.Is(err, store.ErrNotFound) {
		d.audit(ctx, audit.Entry{User: &u.ID, Alliance: &a.ID, Action: action, Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			Failed: true, New: map[string]any{"reason": "not a manager", "route": req.Route}})
		return u, m, bot.UserErrorf("Only managers of %s link an alliance key: ask one of its admins (/alliance managers add).", a.Name)
	} else if err != nil {
		return u, m, fmt.Errorf("manager: %w", err)
	}
	return u, m, nil
}

// allianceKeyOpen opens the key form from the direct message. A modal must
// be the first answer, at once: it reads nothing.
func (d *Deps) allianceKeyOpen(_ context.Context, req *call) (*bot.Response, error) {
	return bot.Modal(bot.CustomID(routeKeySubmit, req.Var("alliance")), "Link your alliance key", keyInput("An API key of your own nation")), nil
}

// allianceKeySubmit checks the key with the game and stores it: it must be
// a key of the caller's own linked nation, a member of the alliance, and the
// caller an active manager of it.
func (d *Deps) allianceKeySubmit(ctx context.Context, req *call) (*bot.Response, error) {
	key, err := submittedKey(req, "Press the button again and paste it. Nothing was saved.")
	if err != nil {
		return nil, err
	}
	a, err := d.allianceByVar(ctx, req)
	if err != nil {
		return nil, err
	}
	u, m, err := d.activeManager(ctx, req, a, "alliance.key_link")
	if err != nil {
		return nil, err
	}
	if u.PnwNationID == nil {
		return nil, bot.UserError("Link your own nation with /link first: an alliance key must belong to it. Nothing was saved.")
	}
	info, err := d.GameKeys.Owner(ctx, key, "Copy it again from Account, then API Key. Nothing was saved.")
	if err != nil {
		return nil, domainError(err, "Nothing was saved.")
	}
	if err := d.GameKeys.LinkManager(ctx, u, a, m, key, info); err != nil {
		return nil, domainError(err, "Nothing was saved.")
	}
	msg := fmt.Sprintf("Your alliance key for **%s** is linked and stored encrypted; it is never shown again. /alliance key in the server shows it or forgets it.", a.Name)
	if !info.Permissions.AllianceViewBank {
		msg += "\nThe game does not let this key see the bank (alliance_view_bank): /alliance bank will need another manager's key."
	}
	return &bot.Response{Content: msg}, nil
}

// allianceKeyForget deletes the caller's own alliance key.
func (d *Deps) allianceKeyForget(ctx context.Context, req *call) (*bot.Response, error) {
	a, err := d.allianceByVar(ctx, req)
	if err != nil {
		return nil, err
	}
	u, m, err := d.activeManager(ctx, req, a, "alliance.key_forget")
	if err != nil {
		return nil, err
	}
	if m.ManagerApiKey == nil {
		return updated("You have no alliance key stored: there is nothing to forget."), nil
	}
	if err := d.GameKeys.ForgetManager(ctx, u, a, m); err != nil {
		return nil, err
	}
	return updated(fmt.Sprintf("Your alliance key for %s is deleted.", a.Name)), nil
}

// allianceByVar is the alliance a button or form names (alliances.id).
func (d *Deps) allianceByVar(ctx context.Context, req *call) (store.Alliance, error) {
	id, err := strconv.ParseInt(req.Var("alliance"), 10, 64)
	if err != nil {
		return store.Alliance{}, bot.UserError("This button is broken: run /alliance key again.")
	}
	a, err := d.Store.AllianceGetByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, bot.UserError("This alliance is no longer set up with pnwbot.")
	} else if err != nil {
		return a, fmt.Errorf("alliance: %w", err)
	}
	return a, nil
}
