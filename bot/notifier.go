package bot

import (
	"context"
	"log/slog"
)

// Notifier tells users, in a DM, what no command waits on (a revoked key,
// a bank request answered): the domain's notifiers (keys.Notifier and the
// like) over a messenger, the durable notices queue or the REST client.
type Notifier struct {
	// Messenger sends the DM; nil sends nothing.
	Messenger interface {
		DirectMessage(ctx context.Context, userID string, msg *Response) error
	}
	Logger *slog.Logger
}

// Notify sends text to the user; a failure is logged.
func (n Notifier) Notify(ctx context.Context, discordID, text string) {
	if n.Messenger == nil {
		return
	}
	if err := n.Messenger.DirectMessage(ctx, discordID, &Response{Content: text}); err != nil {
		n.Logger.WarnContext(ctx, "notice", "error", err)
	}
}
