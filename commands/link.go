package commands

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
)

const (
	routeLinkSubmit = "link/submit"
	inputAPIKey     = "api_key"
)

// apiKeyPattern is what a game key looks like; anything else is refused
// before it costs a request.
var apiKeyPattern = regexp.MustCompile(`^[A-Za-z0-9]{8,64}$`)

func (d *Deps) linkCommand() bot.Command {
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "link",
			Description: "Link your Politics and War nation with your API key",
		},
		Routes: d.routes(
			route{Path: "/link", Handler: d.link, Ephemeral: true},
			// A new account is made only once the game accepts the key; a known
			// one must hold canLinkApiKey (linkSubmit asks).
			route{Path: routeLinkSubmit, Handler: d.linkSubmit, Ephemeral: true},
		),
	}
}

func (d *Deps) unlinkCommand() bot.Command {
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "unlink",
			Description: "Forget your stored API key and the nation it linked",
		},
		Routes: d.routes(route{Path: "/unlink", Handler: d.unlink, Ephemeral: true}),
	}
}

// link opens the modal. A modal cannot be deferred, so it must answer at
// once: it calls nothing itself.
func (d *Deps) link(context.Context, *call) (*bot.Response, error) {
	return bot.Modal(routeLinkSubmit, "Link your nation", keyInput("Your Politics and War API key")), nil
}

// keyInput is the form field for a game API key.
func keyInput(label string) *discordgo.TextInput {
	return &discordgo.TextInput{
		CustomID:    inputAPIKey,
		Label:       label,
		Style:       discordgo.TextInputShort,
		Placeholder: "In the game: Account, then API Key",
		Required:    true,
		MinLength:   8,
		MaxLength:   64,
	}
}

// submittedKey reads the key a form submitted; one that does not look like
// a key is refused, with retry saying what to do, before it costs a request.
func submittedKey(req *call, retry string) (string, error) {
	var in struct {
		Key string `discord:"api_key"`
	}
	if err := req.Options(&in); err != nil {
		return "", err
	}
	key := strings.TrimSpace(in.Key)
	if !apiKeyPattern.MatchString(key) {
		return "", bot.UserError("That does not look like an API key: it should be letters and digits only. " + retry)
	}
	return key, nil
}

func (d *Deps) linkSubmit(ctx context.Context, req *call) (*bot.Response, error) {
	key, err := submittedKey(req, "Copy it from Account, then API Key, in the game, and run /link again.")
	if err != nil {
		return nil, err
	}
	// A known account must hold the permission; a new one is created only
	// once the game accepts the key, so a refused key leaves nothing behind.
	u, err := d.findUser(req)
	known := err == nil
	if known {
		err = d.allow(ctx, req, u, access.Member(access.LinkAPIKey))
	}
	if err != nil && !errors.Is(err, errNoAccount) {
		return nil, err
	}
	info, err := d.GameKeys.Owner(ctx, key, "Copy it again from Account, then API Key, in the game, and run /link again. Nothing was saved.")
	if err != nil {
		return nil, domainError(err, "Nothing was saved.")
	}
	if !known {
		if u, err = d.ensureUser(ctx, req); err != nil {
			return nil, err
		}
	}
	if err := d.GameKeys.LinkMember(ctx, u, key, info); err != nil {
		return nil, domainError(err, "Nothing was saved.")
	}
	if id, err := strconv.ParseInt(info.Nation.Id, 10, 64); err == nil {
		d.rememberNation(ctx, id, info.Nation.NationName, info.Nation.LeaderName, info.Nation.AllianceId)
	}
	d.syncRoles(ctx, u.ID)
	return &bot.Response{Ephemeral: true, Content: fmt.Sprintf(
		"Linked to **%s** (led by %s). Your key is stored encrypted and is never shown again; /unlink forgets it.",
		info.Nation.NationName, info.Nation.LeaderName)}, nil
}

func (d *Deps) unlink(ctx context.Context, req *call) (*bot.Response, error) {
	u, err := d.findUser(req)
	if err != nil {
		return nil, err
	}
	if u.PnwNationID == nil {
		return &bot.Response{Content: "You have no linked nation: there is nothing to unlink.", Ephemeral: true}, nil
	}
	if err := d.allow(ctx, req, u, access.Member(access.LinkAPIKey)); err != nil {
		return nil, err
	}
	retired, err := d.GameKeys.UnlinkMember(ctx, u)
	if err != nil {
		return nil, err
	}
	d.syncRoles(ctx, u.ID)
	text := "Done: your key is deleted and your nation unlinked. Use /link to link again."
	if len(retired) > 0 {
		text += fmt.Sprintf(" Your alliance key for %s is deleted too: it was your nation's, so link it again with /alliance key after /link.", strings.Join(retired, ", "))
	}
	return &bot.Response{Content: text, Ephemeral: true}, nil
}
