package commands

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/war"
)

func (d *Deps) warCommand() bot.Command {
	str := discordgo.ApplicationCommandOptionString
	kind := func() *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: str, Name: "kind", Description: "defensive: a member is attacked; offensive: a member attacks",
			Required: true, Choices: choices(war.Defensive, war.Offensive)}
	}
	warsSlash, _ := view(d.warsView, "nation")
	one := 1.0
	needWars := access.Alliance(access.ViewWars)
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
				sub("counters", "Members who can declare on the enemy of a war now, strongest first",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "war", Description: "The war's id", Required: true, MinValue: &one}),
				sub("list", "The alliance's active wars, offensive and defensive",
					&discordgo.ApplicationCommandOption{Type: str, Name: "nation", Description: "Only this nation's wars (name or id)", Autocomplete: true, MaxLength: maxNameLength}),
			},
		},
		Routes: d.routes(
			route{Path: "/war/alerts/channel", Need: access.Alliance(access.ManageSettings), Handler: d.warAlertsChannel, Ephemeral: true},
			route{Path: "/war/alerts/off", Need: access.Alliance(access.ManageSettings), Handler: d.warAlertsOff, Ephemeral: true},
			route{Path: "/war/list", Need: needWars, Handler: warsSlash, Autocomplete: d.nationAutocomplete, Ephemeral: true},
			route{Path: "/war/counters", Need: needWars, Handler: d.warCounters, Ephemeral: true},
			route{Path: routeWarCounters, Need: needWars, Handler: d.warCounters, Ephemeral: true},
			route{Path: routeWarRoom, Need: needWars, Handler: d.warRoom, Ephemeral: true},
			route{Path: routeWarRoomAdd, Need: needWars, Handler: d.warRoomAdd, Ephemeral: true},
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
		role = &o.Ping.ID
	}
	err := d.War.SetAlerts(ctx, u.ID, a.ID, o.Kind, o.Channel.ID, role)
	if errors.Is(err, war.ErrPingOffensive) {
		return nil, bot.UserError("Only defensive alerts ping a role. Nothing was changed.")
	} else if err != nil {
		return nil, err
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
	err := d.War.AlertsOff(ctx, u.ID, a.ID, o.Kind)
	if errors.Is(err, war.ErrAlertsOff) {
		return bot.Reply(fmt.Sprintf("%s alerts of %s were already off.", capitalize(o.Kind), a.Name)), nil
	} else if err != nil {
		return nil, err
	}
	return bot.Reply(fmt.Sprintf("%s alerts of %s are off.", capitalize(o.Kind), a.Name)), nil
}

// Channels posts and edits messages in a server's channels and threads:
// the bot's REST client.
type Channels interface {
	SendChannelMessage(ctx context.Context, channelID string, resp *bot.Response, users, roles []string) (string, error)
	EditChannelMessage(ctx context.Context, channelID, messageID string, resp *bot.Response) error
	StartPrivateThread(ctx context.Context, channelID, name string) (string, error)
	AddThreadMember(ctx context.Context, threadID, userID string) error
	ArchiveThread(ctx context.Context, threadID string) error
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
	if a.Kind == war.Defensive {
		id := strconv.FormatInt(a.War.ID, 10)
		resp.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Find counters", Style: discordgo.PrimaryButton, CustomID: bot.CustomID(routeWarCounters, id)},
			discordgo.Button{Label: "War room", Style: discordgo.SecondaryButton, CustomID: bot.CustomID(routeWarRoom, id)},
		}}}
	}
	return n.Discord.SendChannelMessage(ctx, a.ChannelID, resp, users, roles)
}

// OpenRoom starts a private thread named after the attacker, with the
// attacker's card.
func (n WarAlerts) OpenRoom(ctx context.Context, a war.Alert) (string, error) {
	thread, err := n.Discord.StartPrivateThread(ctx, a.ChannelID, truncate("vs "+sideName(a.Attacker, a.War.AttackerID), 100))
	if err != nil {
		return "", err
	}
	card := &discordgo.MessageEmbed{Title: truncate("War room: "+sideName(a.Attacker, a.War.AttackerID), 256), Color: colorDanger,
		Description: "Every war against this nation is posted here; the room is archived when they have all ended.",
		Fields:      []*discordgo.MessageEmbedField{sideField("Attacker", a.Attacker, a.War.AttackerID)}}
	_, err = n.Discord.SendChannelMessage(ctx, thread, &bot.Response{Embeds: []*discordgo.MessageEmbed{card}}, nil, nil)
	return thread, err
}

// PostInRoom posts a later war against the room's attacker; adding the
// defender to the thread is their notice, so it pings no one.
func (n WarAlerts) PostInRoom(ctx context.Context, threadID string, a war.Alert) error {
	_, err := n.Discord.SendChannelMessage(ctx, threadID, warAlert(a), nil, nil)
	return err
}

// AddToRoom adds a user to a room.
func (n WarAlerts) AddToRoom(ctx context.Context, threadID, userID string) error {
	return n.Discord.AddThreadMember(ctx, threadID, userID)
}

// ArchiveRoom archives a room.
func (n WarAlerts) ArchiveRoom(ctx context.Context, threadID string) error {
	return n.Discord.ArchiveThread(ctx, threadID)
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
		e.Title = truncate(fmt.Sprintf("%s declared war on %s", att, def), 256)
		e.Color = colorDefault
	} else {
		e.Title = truncate(fmt.Sprintf("%s is attacked by %s", def, att), 256)
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
		"[%s](%s) · %s\n%s\nScore %.2f · %d cities\n%s soldiers · %s tanks · %s aircraft · %s ships",
		n.NationName, link, n.LeaderName, alliance, n.Score, n.NumCities,
		number(n.Soldiers), number(n.Tanks), number(n.Aircraft), number(n.Ships)))}
}

const (
	routeWarCounters = "war/counters/{war}"
	routeWarRoom     = "war/room/{war}"
	routeWarRoomAdd  = "war/room/{war}/add/{user}"
)

// warID reads the war: the /war counters option, or a button's {war}.
func warID(req *call) (int64, error) {
	if v := req.Var("war"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return 0, bot.UserError("This button is broken: use /war counters.")
		}
		return id, nil
	}
	var o struct {
		War int64 `discord:"war"`
	}
	if err := req.Options(&o); err != nil {
		return 0, err
	}
	if o.War <= 0 {
		return 0, bot.UserError("A war is its id, a positive number (the end of its timeline's address in the game).")
	}
	return o.War, nil
}

// warCounters answers /war counters and the alert's Find counters button:
// up to 8 members who can declare on the enemy now, each with a button to
// add them to the war room when they linked a Discord user.
func (d *Deps) warCounters(ctx context.Context, req *call) (*bot.Response, error) {
	id, err := warID(req)
	if err != nil {
		return nil, err
	}
	a := req.Alliance
	enemy, err := d.War.Enemy(ctx, a.ID, a.PnwAllianceID, id)
	if errors.Is(err, war.ErrNotOurs) {
		return nil, bot.UserErrorf("War %d is not a war of %s's members.", id, a.Name)
	} else if err != nil {
		return nil, gameError(err, "")
	}
	att, counters, err := d.War.Counters(ctx, a.PnwAllianceID, enemy)
	if err != nil {
		return nil, gameError(err, "")
	}
	e := &discordgo.MessageEmbed{Title: truncate("Counters to "+att.NationName, 256), Color: colorDanger,
		URL: nationURL(att.Id),
		Description: fmt.Sprintf("%s has score %.2f: members with score %.2f to %.2f can declare on it (75%% to 250%% of their own), "+
			"with a free offensive slot, out of vacation mode and beige. Strongest first, by the branches %s fields most.",
			att.NationName, att.Score, att.Score/2.5, att.Score/0.75, att.NationName)}
	if len(counters) == 0 {
		e.Description += "\n\n**Nobody in " + a.Name + " can declare on it now.**"
	}
	var buttons []discordgo.MessageComponent
	for i, c := range counters {
		n := c.Nation
		who := "not linked"
		if c.User != "" {
			who = "<@" + c.User + ">"
			buttons = append(buttons, discordgo.Button{Label: truncate("Add "+n.NationName+" to the room", 80), Style: discordgo.SecondaryButton,
				CustomID: bot.CustomID(routeWarRoomAdd, strconv.FormatInt(id, 10), c.User)})
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{
			Name: truncate(fmt.Sprintf("%d. %s", i+1, n.NationName), 256),
			Value: fieldValue(fmt.Sprintf("[%s](%s) · %s\nScore %.2f · %d cities · %d/5 offensive wars\n%s soldiers · %s tanks · %s aircraft · %s ships",
				n.NationName, nationURL(n.Id), who, n.Score, n.NumCities, n.OffensiveWarsCount,
				number(n.Soldiers), number(n.Tanks), number(n.Aircraft), number(n.Ships))),
		})
	}
	var rows []discordgo.MessageComponent
	for len(buttons) > 0 {
		k := min(len(buttons), 5)
		rows = append(rows, discordgo.ActionsRow{Components: buttons[:k]})
		buttons = buttons[k:]
	}
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}, Components: rows}, nil
}

// warRoom answers the alert's War room button: it opens the room against
// the attacker (or finds it) and adds the defender and the one who asked.
func (d *Deps) warRoom(ctx context.Context, req *call) (*bot.Response, error) {
	return d.roomWith(ctx, req, req.User.ID)
}

// warRoomAdd adds a counter chosen from the list to the room.
func (d *Deps) warRoomAdd(ctx context.Context, req *call) (*bot.Response, error) {
	user := req.Var("user")
	if !snowflake.MatchString(user) {
		return nil, bot.UserError("This button is broken: find the counters again.")
	}
	return d.roomWith(ctx, req, req.User.ID, user)
}

var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

func (d *Deps) roomWith(ctx context.Context, req *call, users ...string) (*bot.Response, error) {
	id, err := warID(req)
	if err != nil {
		return nil, err
	}
	room, err := d.War.OpenRoom(ctx, req.Alliance.ID, id, users...)
	if errors.Is(err, war.ErrNoAlert) {
		return nil, bot.UserErrorf("War %d has no alert in this server, so no war room: rooms open from a defensive alert.", id)
	} else if err != nil {
		return nil, fmt.Errorf("war room: %w", err)
	}
	added := make([]string, len(users))
	for i, u := range users {
		added[i] = "<@" + u + ">"
	}
	verb := "is"
	if room.Opened {
		verb = "is now open:"
	}
	return bot.Reply(fmt.Sprintf("The war room %s <#%s>. Added %s (and the defender, when linked).", verb, room.ThreadID, strings.Join(added, ", "))), nil
}
