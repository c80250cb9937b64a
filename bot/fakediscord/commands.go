package fakediscord

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Discord refuses a whole bulk overwrite (400, code 50035) when one command
// breaks its rules, and then no command changes at all. The fake checks the
// same rules, so a definition Discord would refuse fails the tests that
// register commands instead of a deployment.
const (
	maxCommands    = 100  // chat input commands per scope
	maxOptions     = 25   // options (or subcommands) at one level
	maxChoices     = 25   // choices of one option
	maxCommandText = 4000 // names, descriptions and choice names and values of one command
	maxDescription = 100
	maxChoiceText  = 100
)

var commandName = regexp.MustCompile(`^[-_'\p{L}\p{N}]{1,32}$`)

// validateCommands says why Discord would refuse cmds, or nil.
func validateCommands(cmds []*discordgo.ApplicationCommand) error {
	seen := map[string]bool{}
	chat := 0
	for _, c := range cmds {
		if c.Type == 0 || c.Type == discordgo.ChatApplicationCommand {
			chat++
			if err := checkName(c.Name); err != nil {
				return fmt.Errorf("command %q: %w", c.Name, err)
			}
			if err := checkDescription(c.Description); err != nil {
				return fmt.Errorf("command %q: %w", c.Name, err)
			}
		} else if c.Description != "" {
			return fmt.Errorf("command %q: user and message commands have no description", c.Name)
		}
		key := fmt.Sprint(c.Type, c.Name)
		if seen[key] {
			return fmt.Errorf("command %q registered twice", c.Name)
		}
		seen[key] = true
		if err := checkOptions(c.Options, 0); err != nil {
			return fmt.Errorf("command %q: %w", c.Name, err)
		}
		if n := utf8.RuneCountInString(c.Name+c.Description) + optionText(c.Options); n > maxCommandText {
			return fmt.Errorf("command %q: %d characters, over %d", c.Name, n, maxCommandText)
		}
	}
	if chat > maxCommands {
		return fmt.Errorf("%d commands, over %d", chat, maxCommands)
	}
	return nil
}

func checkName(name string) error {
	if !commandName.MatchString(name) || strings.ToLower(name) != name {
		return fmt.Errorf("name %q: 1-32 lowercase letters, digits, - or _", name)
	}
	return nil
}

func checkDescription(d string) error {
	if n := utf8.RuneCountInString(d); n < 1 || n > maxDescription {
		return fmt.Errorf("description %q: 1-%d characters", d, maxDescription)
	}
	return nil
}

// checkOptions checks one level of options; depth is 0 under a command, 1
// under a subcommand group or subcommand, 2 under a subcommand in a group.
func checkOptions(opts []*discordgo.ApplicationCommandOption, depth int) error {
	if len(opts) > maxOptions {
		return fmt.Errorf("%d options, over %d", len(opts), maxOptions)
	}
	seen := map[string]bool{}
	subs, optional := 0, false
	for _, o := range opts {
		if err := checkName(o.Name); err != nil {
			return err
		}
		if err := checkDescription(o.Description); err != nil {
			return fmt.Errorf("option %q: %w", o.Name, err)
		}
		if seen[o.Name] {
			return fmt.Errorf("option %q given twice", o.Name)
		}
		seen[o.Name] = true
		switch o.Type {
		case discordgo.ApplicationCommandOptionSubCommandGroup:
			if depth > 0 {
				return fmt.Errorf("group %q: groups only sit directly under a command", o.Name)
			}
			subs++
			for _, s := range o.Options {
				if s.Type != discordgo.ApplicationCommandOptionSubCommand {
					return fmt.Errorf("group %q: holds only subcommands", o.Name)
				}
			}
			if err := checkOptions(o.Options, 1); err != nil {
				return fmt.Errorf("group %q: %w", o.Name, err)
			}
		case discordgo.ApplicationCommandOptionSubCommand:
			if depth > 1 {
				return fmt.Errorf("subcommand %q: nested too deep", o.Name)
			}
			subs++
			for _, s := range o.Options {
				if s.Type == discordgo.ApplicationCommandOptionSubCommand || s.Type == discordgo.ApplicationCommandOptionSubCommandGroup {
					return fmt.Errorf("subcommand %q: holds no subcommands", o.Name)
				}
			}
			if err := checkOptions(o.Options, 2); err != nil {
				return fmt.Errorf("subcommand %q: %w", o.Name, err)
			}
		default:
			if o.Required && optional {
				return fmt.Errorf("option %q: required options come before optional ones", o.Name)
			}
			optional = optional || !o.Required
			if err := checkChoices(o); err != nil {
				return fmt.Errorf("option %q: %w", o.Name, err)
			}
		}
	}
	if subs > 0 && subs != len(opts) {
		return fmt.Errorf("subcommands cannot sit beside other options")
	}
	return nil
}

func checkChoices(o *discordgo.ApplicationCommandOption) error {
	if len(o.Choices) > maxChoices {
		return fmt.Errorf("%d choices, over %d", len(o.Choices), maxChoices)
	}
	if o.Autocomplete && len(o.Choices) > 0 {
		return fmt.Errorf("autocomplete and choices exclude each other")
	}
	for _, c := range o.Choices {
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > maxChoiceText {
			return fmt.Errorf("choice %q: name of 1-%d characters", c.Name, maxChoiceText)
		}
		if s, ok := c.Value.(string); ok && utf8.RuneCountInString(s) > maxChoiceText {
			return fmt.Errorf("choice %q: value over %d characters", c.Name, maxChoiceText)
		}
	}
	return nil
}

// optionText counts the characters Discord counts toward maxCommandText.
func optionText(opts []*discordgo.ApplicationCommandOption) int {
	n := 0
	for _, o := range opts {
		n += utf8.RuneCountInString(o.Name+o.Description) + optionText(o.Options)
		for _, c := range o.Choices {
			n += utf8.RuneCountInString(c.Name + fmt.Sprint(c.Value))
		}
	}
	return n
}
