package commands

import (
	"errors"
	"fmt"

	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/keys"
	"pnwbot/pnw"
)

// domainError renders what a domain package refused, or a game call that
// failed, in the user's words; suffix says what became of their request
// when the game failed ("Nothing was withdrawn."). Anything else passes
// through to the bot's error path.
func domainError(err error, suffix string) error {
	var (
		bankInvalid *bank.Invalid
		bankRefused *bank.Refused
		repeated    *bank.Repeated
		keyRefused  *keys.Refused
		ownRefused  *keys.OwnRefused
		noKey       *keys.NoAllianceKey
		pe          *pnw.Error
	)
	switch {
	case errors.As(err, &bankInvalid):
		return bot.UserError(bankInvalid.Message)
	case errors.As(err, &bankRefused):
		return bot.UserError(bankRefused.Message)
	case errors.As(err, &repeated):
		return bot.UserError(repeated.Message)
	case errors.As(err, &keyRefused):
		return bot.UserError(keyRefused.Message)
	case errors.As(err, &ownRefused):
		return bot.UserError(ownRefused.Message)
	case errors.As(err, &noKey):
		return bot.UserError(noKey.Error())
	case errors.As(err, &pe):
		return gameError(err, suffix)
	}
	return err
}

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
