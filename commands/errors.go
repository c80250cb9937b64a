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
	case errors.Is(err, pnw.ErrRateLimited) && errors.As(err, &pe) && !pe.Reset.IsZero():
		return bot.UserErrorf("The game's API limit is reached. Try again <t:%d:R>. %s", pe.Reset.Unix(), suffix)
	case errors.Is(err, pnw.ErrRateLimited):
		return bot.UserErrorf("The game's API limit is reached. Try again in a few minutes. %s", suffix)
	case errors.Is(err, pnw.ErrGameDown):
		return bot.UserErrorf("The game's API is not answering right now. Try again in a few minutes. %s", suffix)
	}
	return fmt.Errorf("game API: %w", err)
}
