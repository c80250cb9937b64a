package bot

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// Text PostgreSQL cannot store is refused before the handler and its
// queries run: a clear private reply, and no error logged.
func TestBadTextRefused(t *testing.T) {
	t.Parallel()
	st := storetest.NewDB(t)
	var ran atomic.Int32
	lookup := func(ctx context.Context, req *Request) (*Response, error) {
		ran.Add(1)
		var o struct {
			Nation string `discord:"nation"`
			Key    string `discord:"key"`
		}
		if err := req.Options(&o); err != nil {
			return nil, err
		}
		if _, err := st.SeenNationByName(ctx, o.Nation+o.Key); !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return Reply("no such nation"), nil
	}
	b, tb := setup(t, Options{},
		Command{
			Definition: &discordgo.ApplicationCommand{Name: "nation", Description: "nation", Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "nation", Description: "nation"},
			}},
			Routes: []Route{{Path: "/nation", Handler: lookup, Autocomplete: lookup}},
		},
		Command{Routes: []Route{{Path: "link/submit", Handler: lookup, Ephemeral: true}}},
	)

	for _, i := range []*discordgo.Interaction{
		fakediscord.Command("/nation", fakediscord.Option("nation", "Alice\x00land")),
		fakediscord.Command("/nation", fakediscord.Option("nation", "Alice\xffland")),
		fakediscord.ModalSubmit("link/submit", map[string]string{"key": "abc\x00def"}),
	} {
		resp := serve(b, i)
		require.Equal(t, "Your input contains a character pnwbot cannot accept (a NUL byte or broken text). Remove it and try again.", resp.Data.Content)
		require.Equal(t, discordgo.MessageFlagsEphemeral, resp.Data.Flags)
	}
	resp := serve(b, fakediscord.Autocomplete("/nation", fakediscord.Focused(fakediscord.Option("nation", "Al\x00"))))
	require.Empty(t, resp.Data.Choices)
	require.Zero(t, ran.Load(), "no handler ran, so no query")
	require.NotContains(t, tb.logs.String(), `"level":"ERROR"`)

	// Ordinary text goes through.
	require.Equal(t, "no such nation", serve(b, fakediscord.Command("/nation", fakediscord.Option("nation", "Aliceland"))).Data.Content)
	require.EqualValues(t, 1, ran.Load())
}
