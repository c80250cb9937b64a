package commands

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/settings"
	"pnwbot/store"
)

// configTypes are app_config's data types, as its CHECK lists them.
var configTypes = []string{"string", "number", "boolean", "json"}

var configKeyPattern = regexp.MustCompile(`^[a-z0-9_.]+$`)

const (
	maxConfigKey   = 100
	maxConfigValue = 1000
)

func configOptions() []*discordgo.ApplicationCommandOption {
	str := discordgo.ApplicationCommandOptionString
	key := &discordgo.ApplicationCommandOption{Type: str, Name: "key", Description: "The setting, e.g. ratelimit.user_commands_per_minute", Required: true, Autocomplete: true, MaxLength: maxConfigKey}
	return []*discordgo.ApplicationCommandOption{
		sub("list", "Every setting: stored values and defaults"),
		sub("get", "One setting", key),
		sub("set", "Store a setting; the bot uses it within a minute", key,
			&discordgo.ApplicationCommandOption{Type: str, Name: "value", Description: "The value", Required: true, MaxLength: maxConfigValue},
			&discordgo.ApplicationCommandOption{Type: str, Name: "type", Description: "Its type", Required: true, Choices: choices(configTypes...)},
			&discordgo.ApplicationCommandOption{Type: str, Name: "category", Description: "Its group (default: the setting's, or general)", MaxLength: 50}),
		sub("delete", "Delete a stored setting: its default serves again", key),
	}
}

type configOpts struct {
	Key      string `discord:"key"`
	Value    string `discord:"value"`
	Type     string `discord:"type"`
	Category string `discord:"category"`
}

func (d *Deps) adminConfigList(ctx context.Context, req *call) (*bot.Response, error) {
	rows, err := d.Store.AppConfigList(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	stored := map[string]store.AppConfig{}
	for _, r := range rows {
		stored[r.Key] = r
	}
	var lines []string
	for _, k := range settings.All {
		line := fmt.Sprintf("`%s` = `%s`", k.Name, k.Default)
		if r, ok := stored[k.Name]; ok {
			line = fmt.Sprintf("`%s` = **`%s`** (default `%s`)", k.Name, r.Value, k.Default)
		}
		lines = append(lines, line)
	}
	for _, r := range rows {
		if _, known := settings.Find(r.Key); !known {
			lines = append(lines, fmt.Sprintf("`%s` = **`%s`** (%s, %s; not read by the bot)", r.Key, truncate(r.Value, 100), r.DataType, r.Category))
		}
	}
	e := &discordgo.MessageEmbed{Title: "Settings", Color: colorDefault, Description: truncate(strings.Join(lines, "\n"), 4096),
		Footer: &discordgo.MessageEmbedFooter{Text: "Bold: stored in app_config. Changes count within a minute. /admin config get key says what one means."}}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}, nil
}

func (d *Deps) adminConfigGet(ctx context.Context, req *call) (*bot.Response, error) {
	var o configOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	key, err := configKey(o.Key)
	if err != nil {
		return nil, err
	}
	k, known := settings.Find(key)
	r, err := d.Store.AppConfigGet(ctx, key)
	stored := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("config %s: %w", key, err)
	}
	if !stored && !known {
		return nil, bot.UserErrorf("No setting `%s`: /admin config list shows them.", key)
	}
	e := &discordgo.MessageEmbed{Title: truncate(key, 256), Color: colorDefault}
	field := func(name, value string) {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: name, Value: fieldValue(value)})
	}
	if stored {
		field("Value", "`"+r.Value+"`")
		field("Type · category", r.DataType+" · "+r.Category)
		by := "nobody known"
		if r.UpdatedBy != nil {
			if u, err := d.Store.UserGetByID(ctx, *r.UpdatedBy); err == nil {
				by = "<@" + u.DiscordID + ">"
			}
		}
		field("Changed", fmt.Sprintf("<t:%d:f> by %s", r.UpdatedAt.Unix(), by))
	} else {
		field("Value", "not stored: the default serves")
	}
	if known {
		field("Default", fmt.Sprintf("`%s` (%s, at least %d)", k.Default, k.Type, k.Min))
		e.Description = k.Description
	} else if r.Description != "" {
		e.Description = r.Description
	}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}, nil
}

func (d *Deps) adminConfigSet(ctx context.Context, req *call) (*bot.Response, error) {
	var o configOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	u := req.Account
	key, err := configKey(o.Key)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(configTypes, o.Type) {
		return nil, bot.UserError("The type is string, number, boolean or json. Nothing was changed.")
	}
	value := strings.TrimSpace(o.Value)
	err = d.configChanges().Set(ctx, u.ID, key, value, o.Type, strings.TrimSpace(o.Category))
	var invalid *settings.Invalid
	switch {
	case errors.As(err, &invalid):
		return nil, bot.UserErrorf("Refused: %s. Nothing was changed.", invalid.Reason)
	case errors.Is(err, settings.ErrNotOfType):
		return nil, bot.UserErrorf("`%s` is not a %s. Nothing was changed.", truncate(value, 100), o.Type)
	case err != nil:
		return nil, fmt.Errorf("config set: %w", err)
	}
	return &bot.Response{Content: fmt.Sprintf("`%s` is now `%s` (%s). The bot uses it within a minute.", key, truncate(value, 200), o.Type)}, nil
}

func (d *Deps) adminConfigDelete(ctx context.Context, req *call) (*bot.Response, error) {
	var o configOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	u := req.Account
	key, err := configKey(o.Key)
	if err != nil {
		return nil, err
	}
	err = d.configChanges().Delete(ctx, u.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, bot.UserErrorf("`%s` is not stored. Nothing was changed.", key)
	} else if err != nil {
		return nil, fmt.Errorf("config delete: %w", err)
	}
	msg := fmt.Sprintf("`%s` is deleted.", key)
	if k, known := settings.Find(key); known {
		msg += fmt.Sprintf(" Its default, `%s`, serves within a minute.", k.Default)
	}
	return &bot.Response{Content: msg}, nil
}

// configKey checks a key as app_config's CHECK would.
func configKey(s string) (string, error) {
	key := strings.ToLower(strings.TrimSpace(s))
	if len(key) > maxConfigKey || !configKeyPattern.MatchString(key) {
		return "", bot.UserError("A setting's key is lowercase letters, digits, dots and underscores, such as `ratelimit.user_commands_per_minute`. Nothing was changed.")
	}
	return key, nil
}

// adminConfigAutocomplete suggests the settings the bot reads and those
// stored.
func (d *Deps) adminConfigAutocomplete(ctx context.Context, req *call) (*bot.Response, error) {
	var o configOpts
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	typed := strings.ToLower(o.Key)
	var names []string
	for _, k := range settings.All {
		names = append(names, k.Name)
	}
	// Keys stored beyond the known settings are for admins' eyes only.
	admin := false
	if u, err := d.findUser(req); err == nil {
		held, err := access.LoadSystem(ctx, d.Store, u.ID)
		admin = err == nil && held[access.ManageSystem]
	}
	if rows, err := d.Store.AppConfigList(ctx, nil); err == nil && admin {
		for _, r := range rows {
			if !slices.Contains(names, r.Key) {
				names = append(names, r.Key)
			}
		}
	}
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, n := range names {
		if strings.Contains(n, typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: n, Value: n})
		}
	}
	return bot.Choices(out...), nil
}

// configChanges writes app_config for /admin config.
func (d *Deps) configChanges() settings.Changes {
	return settings.Changes{Log: d.AuditLog, Settings: d.Settings}
}
