package commands

import (
	"context"

	"pnwbot/bot"
)

// notices is the keys.Notifier of the handlers: Deps.notify.
type notices struct{ d *Deps }

func (n notices) Notify(ctx context.Context, discordID, text string) {
	n.d.notify(ctx, discordID, text)
}

// notify tells a user something in a DM that no command waits on: through
// Notices (durable, retried) when set, else DM at once. A failure is logged.
func (d *Deps) notify(ctx context.Context, discordID, text string) {
	m := d.Notices
	if m == nil {
		m = d.DM
	}
	if m == nil {
		return
	}
	if err := m.DirectMessage(ctx, discordID, &bot.Response{Content: text}); err != nil {
		d.Logger.WarnContext(ctx, "notice", "error", err)
	}
}
