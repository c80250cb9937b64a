package commands

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bot"
	"pnwbot/store"
)

const (
	// maxSuggestions is how many close names an unknown-name answer offers.
	maxSuggestions = 5
	// maxCandidates bounds the known names compared with an unknown one.
	maxCandidates = 200
	// maxNameLength bounds what a user may type as a name (Discord enforces
	// it on the option); game names are far shorter.
	maxNameLength = 100
)

// knownName is a name the bot has seen in the game's answers.
type knownName struct {
	id    int64
	name  string
	label string // what an autocomplete choice shows
}

// nameLookup turns what a user types into a game id. It resolves an id as
// is, a name the bot has seen from the database, any other name from the
// game, and answers an unknown name with close known names; autocomplete
// offers known names only, so typing costs no API request.
type nameLookup struct {
	kind   string                                                                   // "nation", "alliance": for messages
	seen   func(ctx context.Context, name string) (int64, error)                    // a known exact name, or store.ErrNotFound
	game   func(ctx context.Context, name string) (string, error)                   // the game's exact match, or ""
	search func(ctx context.Context, text string, limit int32) ([]knownName, error) // known names containing text
}

// autocomplete answers with the known names containing what is typed.
func (l nameLookup) autocomplete(ctx context.Context, typed string) (*bot.Response, error) {
	names, err := l.search(ctx, strings.TrimSpace(typed), 25)
	if err != nil {
		return nil, fmt.Errorf("known %s names: %w", l.kind, err)
	}
	choices := make([]*discordgo.ApplicationCommandOptionChoice, len(names))
	for i, n := range names {
		choices[i] = &discordgo.ApplicationCommandOptionChoice{Name: truncate(n.label, 100), Value: strconv.FormatInt(n.id, 10)}
	}
	return bot.Choices(choices...), nil
}

func (l nameLookup) resolve(ctx context.Context, query string) (int, error) {
	if len([]rune(query)) > maxNameLength {
		return 0, bot.UserErrorf("That %s name is too long: names have at most %d characters.", l.kind, maxNameLength)
	}
	if id, err := strconv.ParseInt(query, 10, 64); err == nil && id > 0 {
		// The game's ids are GraphQL Int (32 bits): a larger one would fail
		// the whole query, with every lookup merged into it.
		if id > math.MaxInt32 {
			return 0, bot.UserErrorf("No %s has id %d.", l.kind, id)
		}
		return int(id), nil
	}
	id, err := l.seen(ctx, query)
	if err == nil {
		return int(id), nil
	} else if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrUnavailable) { // the game knows it too
		return 0, fmt.Errorf("known %s names: %w", l.kind, err)
	}
	gameID, err := l.game(ctx, query)
	if err != nil {
		return 0, gameError(err, "")
	}
	if id, err := strconv.Atoi(gameID); err == nil {
		return id, nil
	}
	known, err := l.search(ctx, suggestionPrefix(query), maxCandidates)
	if err != nil {
		return 0, fmt.Errorf("known %s names: %w", l.kind, err)
	}
	names := make([]string, len(known))
	for i, n := range known {
		names[i] = n.name
	}
	if near := closest(query, names, maxSuggestions); len(near) > 0 {
		return 0, bot.UserErrorf("No %s is named %q. Did you mean: %s?", l.kind, query, strings.Join(near, ", "))
	}
	return 0, bot.UserErrorf("No %s is named %q. Check the spelling, or use its id.", l.kind, query)
}

// closest returns up to n of names nearest to query by edit distance,
// nearest first, leaving out names too far off to be a typo.
func closest(query string, names []string, n int) []string {
	q := strings.ToLower(query)
	type candidate struct {
		name string
		dist int
	}
	var cands []candidate
	for _, name := range names {
		lower := strings.ToLower(name)
		dist := editDistance(q, lower)
		if strings.Contains(lower, q) {
			dist = min(dist, 1) // a longer name that contains the query is a good guess
		}
		if dist <= max(2, len([]rune(q))/3) && !slices.ContainsFunc(cands, func(c candidate) bool { return c.name == name }) {
			cands = append(cands, candidate{name, dist})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return a.dist - b.dist })
	out := make([]string, 0, min(n, len(cands)))
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// suggestionPrefix is what candidate names for a suggestion are searched by:
// the first two letters, so a typo after them still finds its name.
func suggestionPrefix(query string) string {
	r := []rune(query)
	return string(r[:min(len(r), 2)])
}
