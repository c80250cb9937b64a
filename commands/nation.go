package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
)

func (d *Deps) nationCommand() bot.Command {
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "nation",
			Description: "Show a nation's card",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "nation", Description: "Nation name or id", Autocomplete: true, MaxLength: maxNameLength},
				{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: "A Discord user with a linked nation"},
			},
		},
		Routes: d.routes(route{Path: "/nation", Handler: d.nation, Autocomplete: d.nationAutocomplete}),
	}
}

func (d *Deps) nation(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Nation string          `discord:"nation"`
		User   *discordgo.User `discord:"user"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	var id int
	var err error
	switch {
	case strings.TrimSpace(opts.Nation) != "":
		id, err = d.nationNames().resolve(ctx, strings.TrimSpace(opts.Nation))
	case opts.User != nil && opts.User.ID != req.User.ID:
		id, err = d.sharedNation(ctx, req, opts.User.ID)
	default:
		id, err = d.callerNation(req, "You haven't linked a nation yet: use /link, or give a nation name.")
	}
	if err != nil {
		return nil, err
	}
	r, err := d.Game.Nation(ctx, id)
	if errors.Is(err, pnw.ErrNotFound) {
		return nil, bot.UserErrorf("The game has no nation with id %d.", id)
	} else if err != nil {
		return nil, gameError(err, "")
	}
	d.rememberNation(ctx, int64(id), r.Data.NationName, r.Data.LeaderName, r.Data.AllianceId)
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{nationEmbed(r)}}, nil
}

// callerNation returns the nation the caller linked, or says notLinked.
func (d *Deps) callerNation(req *call, notLinked string) (int, error) {
	u, err := d.findUser(req)
	if errors.Is(err, errDatabaseDown) {
		return 0, err
	} else if err != nil || u.PnwNationID == nil {
		return 0, bot.UserError(notLinked)
	}
	return int(*u.PnwNationID), nil
}

// sharedNation returns the nation another Discord user linked, unless
// they keep it private (access.Changes.SharedNation, the refusal audited).
func (d *Deps) sharedNation(ctx context.Context, req *call, discordID string) (int, error) {
	var viewer int64
	if req.Caller.Account != nil {
		viewer = req.Caller.Account.ID
	}
	id, err := d.Access.SharedNation(ctx, viewer, req.User.ID, discordID)
	switch {
	case errors.Is(err, access.ErrNationPrivate):
		return 0, bot.UserErrorf("<@%s> keeps their nation private.", discordID)
	case errors.Is(err, access.ErrNotLinked):
		return 0, bot.UserErrorf("<@%s> has not linked a nation.", discordID)
	}
	return int(id), err
}

// nationNames looks up nations by name.
func (d *Deps) nationNames() nameLookup {
	return nameLookup{
		kind: "nation",
		seen: func(ctx context.Context, name string) (int64, error) {
			row, err := d.Store.SeenNationByName(ctx, name)
			return row.NationID, err
		},
		game: func(ctx context.Context, name string) (string, error) {
			r, err := d.Game.NationsByName(ctx, name)
			for _, n := range r.Data {
				if strings.EqualFold(n.NationName, name) {
					return n.Id, nil
				}
			}
			return "", err
		},
		search: func(ctx context.Context, text string, limit int32) ([]knownName, error) {
			rows, err := d.Store.SeenNationSearch(ctx, store.SeenNationSearchParams{Query: text, RowLimit: limit})
			names := make([]knownName, len(rows))
			for i, row := range rows {
				names[i] = knownName{id: row.NationID, name: row.NationName, label: fmt.Sprintf("%s (%s)", row.NationName, row.LeaderName)}
			}
			return names, err
		},
	}
}

func (d *Deps) nationAutocomplete(ctx context.Context, req *call) (*bot.Response, error) {
	var opts struct {
		Nation string `discord:"nation"`
	}
	if err := req.Options(&opts); err != nil {
		return nil, err
	}
	return d.nationNames().autocomplete(ctx, opts.Nation)
}

// rememberNation records a nation's name for autocomplete and name lookups.
func (d *Deps) rememberNation(ctx context.Context, id int64, name, leader, allianceID string) {
	aid, _ := strconv.ParseInt(allianceID, 10, 64)
	d.remember(ctx, "nation:"+strconv.FormatInt(id, 10), name+"\x00"+leader+"\x00"+allianceID, func() error {
		return d.Store.SeenNationUpsert(ctx, store.SeenNationUpsertParams{NationID: id, NationName: name, LeaderName: leader, AllianceID: aid})
	})
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n { // most: no copy
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
