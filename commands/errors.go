package commands

import (
	"errors"
	"fmt"

	"pnwbot/bot"
	"pnwbot/pnw"
)

// gameError turns a failed game API call into what the user can act on;
// errors that are our problem pass through to the bot's error path.
// suffix adds what happened to the user's request, e.g. "Nothing was saved."
func gameError(err error, suffix string) error {
	var pe *pnw.Error
	switch {
	case errors.Is(err, pnw.ErrAllowanceSpent) && errors.As(err, &pe):
		return bot.UserErrorf("You have used today's allowance of game lookups the bot had not cached. Nations and alliances looked up recently still work; "+
			"you can look up a new one again <t:%d:R>. %s", pe.Reset.Unix(), suffix)
	case errors.Is(err, pnw.ErrBudgetLow) && errors.As(err, &pe):
		return bot.UserErrorf("The bot has nearly used up today's game API requests, so it answers from its cache only until <t:%d:t>, "+
			"and this was not cached. Try again then. %s", pe.Reset.Unix(), suffix)
	case errors.Is(err, pnw.ErrRateLimited) && errors.As(err, &pe) && !pe.Reset.IsZero():
		return bot.UserErrorf("The game's API limit is reached. Try again <t:%d:R>. %s", pe.Reset.Unix(), suffix)
	case errors.Is(err, pnw.ErrRateLimited):
		return bot.UserErrorf("The game's API limit is reached. Try again in a few minutes. %s", suffix)
	case errors.Is(err, pnw.ErrGameDown):
		return bot.UserErrorf("The game's API is not answering right now. Try again in a few minutes. %s", suffix)
	}
	return fmt.Errorf("game API: %w", err)
}
