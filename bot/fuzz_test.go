package bot

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"
)

// FuzzInteraction feeds arbitrary JSON through decoding, routing, option
// parsing and the bot's whole answer path: nothing may panic, and what
// both decode, the bot's one-pass decoding decodes as discordgo does.
func FuzzInteraction(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"type":2,"member":{"user":{"id":"1"}},"data":{"name":"alliance","options":[null,{"name":"info","type":1,"options":[{"name":"alliance","type":4,"value":[1]}]}]}}`))
	f.Add([]byte(`{"type":5,"user":{"id":"1"},"data":{"custom_id":"link/submit","components":[{"type":1,"components":[null,{"type":4}]}]}}`))
	f.Add([]byte(`{"type":3,"user":{"id":"1"},"data":{"custom_id":"account/delete//"}}`))

	var got *Request
	session, err := discordgo.New("Bot t") // never used: handle's replies go to the func below
	if err != nil {
		f.Fatal(err)
	}
	b, err := New(Options{REST: &REST{session: session}, Router: NewRouter(testCommands(&got)...)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var i discordgo.Interaction
		if decodeInteraction(raw, &i) != nil {
			return
		}
		var want discordgo.Interaction
		if json.Unmarshal(raw, &want) == nil {
			require.Equal(t, want, i)
		}
		req, _, _ := b.opts.Router.match(&i)
		var opts struct {
			S  string             `discord:"alliance"`
			N  string             `discord:"nation"`
			I  int64              `discord:"nation"`
			F  float64            `discord:"alliance"`
			B  bool               `discord:"alliance"`
			U  *discordgo.User    `discord:"user"`
			M  *discordgo.Member  `discord:"user"`
			R  *discordgo.Role    `discord:"user"`
			C  *discordgo.Channel `discord:"user"`
			K  string             `discord:"key"`
			K2 int                `discord:"key"`
		}
		_ = req.Options(&opts)
		_ = req.Var("token")
		if i.Type != discordgo.InteractionPing {
			b.handle(&i, firstSeen, nil, func(context.Context, *discordgo.InteractionResponse) error { return nil })
		}
	})
}
