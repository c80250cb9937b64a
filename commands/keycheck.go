package commands

import (
	"context"
	"log/slog"

	"pnwbot/bot"
)

// notices tells users what no command waits on, in a DM: through Notices
// (durable, retried) when set, else DM at once. It is keys.Notifier, and
// the handlers' and the audit's notices.
type notices struct {
	m      Messenger // nil: nowhere to send
	logger *slog.Logger
}

// newNotices picks where d's notices go.
func newNotices(d *Deps) notices {
	n := notices{m: d.Notices, logger: d.Logger}
	if n.m == nil {
		n.m = d.DM
	}
	return n
}

// Notify sends text to the user; a failure is logged.
func (n notices) Notify(ctx context.Context, discordID, text string) {
	if n.m == nil {
		return
	}
	if err := n.m.DirectMessage(ctx, discordID, &bot.Response{Content: text}); err != nil {
		n.logger.WarnContext(ctx, "notice", "error", err)
	}
}
