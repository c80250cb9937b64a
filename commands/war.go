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
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
	"pnwbot/war"
)

func (d *Deps) warCommand() bot.Command {
	str := discordgo.ApplicationCommandOptionString
	kind := func() *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: str, Name: "kind", Description: "defensive: a member is attacked; offensive: a member attacks",
			Required: true, Choices: choices(war.Defensive, war.Offensive)}
	}
	warsSlash, _ := view(d.warsView, "nation")
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "war",
			Description: "The war room: alerts, counters and the alliance's wars",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "alerts", Description: "Where war alerts go", Options: []*discordgo.ApplicationCommandOption{
					sub("channel", "Post an alert in a channel for every war of a member",
						&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel", Description: "The channel", Required: true,
							ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText}},
						kind(),
						&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionRole, Name: "ping", Description: "A role to ping on defensive alerts"}),
					sub("off", "Stop posting alerts of a kind", kind()),
				}},
				sub("list", "The alliance's active wars, offensive and defensive",
					&discordgo.ApplicationCommandOption{Type: str, Name: "nation", Description: "Only this nation's wars (name or id)", Autocomplete: true, MaxLength: maxNameLength}),
			},
		},
		Routes: d.routes(
			route{Path: "/war/alerts/channel", Need: access.Alliance(access.ManageSettings), Handler: d.warAlertsChannel, Ephemeral: true},
			route{Path: "/war/alerts/off", Need: access.Alliance(access.ManageSettings), Handler: d.warAlertsOff, Ephemeral: true},
			route{Path: "/war/list", Need: access.Alliance(access.ViewWars), Handler: warsSlash, Autocomplete: d.nationAutocomplete, Ephemeral: true},
		),
	}
}

func (d *Deps) warAlertsChannel(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Channel *discordgo.Channel `discord:"channel"`
		Kind    string             `discord:"kind"`
		Ping    *discordgo.Role    `discord:"ping"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	if o.Channel == nil || (o.Kind != war.Defensive && o.Kind != war.Offensive) {
		return nil, bot.UserError("Choose a text channel and a kind (defensive or offensive). Nothing was changed.")
	}
	if o.Channel.Type != discordgo.ChannelTypeGuildText {
		return nil, bot.UserError("Alerts go in a text channel (war rooms open as threads under it). Nothing was changed.")
	}
	u, a := req.Account, req.Alliance
	var role *string
	if o.Ping != nil {
		if o.Kind != war.Defensive {
			return nil, bot.UserError("Only defensive alerts ping a role. Nothing was changed.")
		}
		role = &o.Ping.ID
	}
	err := d.change(ctx, func(q *store.Queries) (audit.Entry, error) {
		_, err := q.WarAlertChannelSet(ctx, store.WarAlertChannelSetParams{AllianceID: a.ID, Kind: o.Kind, ChannelID: o.Channel.ID, PingRoleID: role})
		return audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "war.alerts_set", Resource: "war_alerts", ResourceID: o.Kind,
			New: map[string]any{"kind": o.Kind, "channel_id": o.Channel.ID, "ping_role_id": role}}, err
	})
	if err != nil {
		return nil, fmt.Errorf("war alerts: %w", err)
	}
	text := fmt.Sprintf("%s alerts of %s now go to <#%s>", capitalize(o.Kind), a.Name, o.Channel.ID)
	if role != nil {
		text += fmt.Sprintf(", pinging <@&%s>", *role)
	}
	return bot.Reply(text + ". Wars declared from now on are posted there within seconds, each once."), nil
}

func (d *Deps) warAlertsOff(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Kind string `discord:"kind"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	if o.Kind != war.Defensive && o.Kind != war.Offensive {
		return nil, bot.UserError("Choose a kind: defensive or offensive. Nothing was changed.")
	}
	u, a := req.Account, req.Alliance
	err := d.change(ctx, func(q *store.Queries) (audit.Entry, error) {
		old, err := q.WarAlertChannelDelete(ctx, store.WarAlertChannelDeleteParams{AllianceID: a.ID, Kind: o.Kind})
		return audit.Entry{User: &u.ID, Alliance: &a.ID, Action: "war.alerts_off", Resource: "war_alerts", ResourceID: o.Kind,
			Old: map[string]any{"kind": o.Kind, "channel_id": old.ChannelID, "ping_role_id": old.PingRoleID}}, err
	})
	if errors.Is(err, store.ErrNotFound) {
		return bot.Reply(fmt.Sprintf("%s alerts of %s were already off.", capitalize(o.Kind), a.Name)), nil
	} else if err != nil {
		return nil, fmt.Errorf("war alerts off: %w", err)
	}
	return bot.Reply(fmt.Sprintf("%s alerts of %s are off.", capitalize(o.Kind), a.Name)), nil
}

// Channels posts and edits messages in a server's channels: the bot.
type Channels interface {
	SendChannelMessage(ctx context.Context, channelID string, resp *bot.Response, users, roles []string) (string, error)
	EditChannelMessage(ctx context.Context, channelID, messageID string, resp *bot.Response) error
}

// WarAlerts renders war alerts and posts them with the bot: war.Notifier.
type WarAlerts struct {
	Discord Channels
}

// PostAlert posts an alert; it mentions exactly the defender's linked
// user and the ping role, when the alert has them.
func (n WarAlerts) PostAlert(ctx context.Context, a war.Alert) (string, error) {
	var users, roles, mentions []string
	if a.DefenderUser != "" {
		users = []string{a.DefenderUser}
		mentions = append(mentions, "<@"+a.DefenderUser+">")
	}
	if a.PingRole != "" {
		roles = []string{a.PingRole}
		mentions = append(mentions, "<@&"+a.PingRole+">")
	}
	resp := warAlert(a)
	resp.Content = strings.Join(mentions, " ")
	return n.Discord.SendChannelMessage(ctx, a.ChannelID, resp, users, roles)
}

// EditAlert rewrites an alert to say how its war ended; an edit pings no
// one, so the mentions stay as text.
func (n WarAlerts) EditAlert(ctx context.Context, a war.Alert) error {
	return n.Discord.EditChannelMessage(ctx, a.ChannelID, a.MessageID, warAlert(a))
}

var warEndings = map[string]string{
	war.Peace:       "ended in peace",
	war.AttackerWon: "ended: the attacker won",
	war.DefenderWon: "ended: the defender won",
	war.Expired:     "expired",
}

// warAlert is an alert's embed: both sides' cards and the war.
func warAlert(a war.Alert) *bot.Response {
	w := a.War
	att, def := sideName(a.Attacker, w.AttackerID), sideName(a.Defender, w.DefenderID)
	e := &discordgo.MessageEmbed{Color: colorDanger, Timestamp: w.Date.UTC().Format(time.RFC3339),
		URL: fmt.Sprintf("%s/nation/war/timeline/war=%d", gameURL, w.ID)}
	if a.Kind == war.Offensive {
		e.Title = truncate(fmt.Sprintf("⚔️ %s declared war on %s", att, def), 256)
		e.Color = colorDefault
	} else {
		e.Title = truncate(fmt.Sprintf("🛡️ %s is attacked by %s", def, att), 256)
	}
	e.Description = fmt.Sprintf("%s war · %d turns left", capitalize(w.Type), w.TurnsLeft)
	if w.Reason != "" {
		e.Description += "\nReason: " + truncate(w.Reason, 500)
	}
	if a.Ended != "" {
		e.Title = truncate("Ended · "+e.Title, 256)
		e.Color = colorEnded
		e.Description = fmt.Sprintf("The war %s.", warEndings[a.Ended])
	}
	e.Fields = []*discordgo.MessageEmbedField{
		sideField("Attacker", a.Attacker, w.AttackerID),
		sideField("Defender", a.Defender, w.DefenderID),
	}
	e.Footer = &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("War %d", w.ID)}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}
}

// colorEnded greys out an ended war's alert.
const colorEnded = 0x868e96

func sideName(n *pnw.Nation, id int64) string {
	if n == nil {
		return fmt.Sprintf("nation %d", id)
	}
	return n.NationName
}

// sideField is one side's card: who, their alliance, and their military.
func sideField(title string, n *pnw.Nation, id int64) *discordgo.MessageEmbedField {
	link := nationURL(strconv.FormatInt(id, 10))
	if n == nil {
		return &discordgo.MessageEmbedField{Name: title, Value: fmt.Sprintf("[nation %d](%s) (the game did not answer)", id, link), Inline: true}
	}
	alliance := "no alliance"
	if n.Alliance != nil {
		alliance = fmt.Sprintf("[%s](%s)", n.Alliance.Name, allianceURL(n.Alliance.Id))
	}
	return &discordgo.MessageEmbedField{Name: title, Inline: true, Value: fieldValue(fmt.Sprintf(
		"[%s](%s) · %s\n%s\nScore %.2f · %d cities\n🪖 %s · 🛡️ %s · ✈️ %s · 🚢 %s",
		n.NationName, link, n.LeaderName, alliance, n.Score, n.NumCities,
		number(n.Soldiers), number(n.Tanks), number(n.Aircraft), number(n.Ships)))}
}
