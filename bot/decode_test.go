package bot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
)

// decodeCases are recorded interactions and built ones of every kind.
func decodeCases(t testing.TB) map[string][]byte {
	cases := map[string][]byte{}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	for _, name := range files {
		raw, err := os.ReadFile(name)
		require.NoError(t, err)
		cases[name] = raw
	}
	for name, i := range map[string]*discordgo.Interaction{
		"command":      fakediscord.Command("/alliance/bank/deposit", fakediscord.Option("money", 12.5), fakediscord.Option("note", "hi")),
		"autocomplete": fakediscord.Autocomplete("/nation", fakediscord.Focused(fakediscord.Option("nation", "Tes"))),
		"component":    fakediscord.Component("withdraw/confirm/12"),
		"modal":        fakediscord.ModalSubmit("link/submit", map[string]string{"api_key": "k", "note": "n"}),
		"dm":           fakediscord.InDM(fakediscord.Command("/me")),
	} {
		raw, err := fakediscord.MarshalInteraction(i)
		require.NoError(t, err)
		cases[name] = raw
	}
	cases["ping"] = []byte(`{"id":"1","type":1,"application_id":"1","token":"t","version":1}`)
	cases["select menu"] = []byte(`{"id":"2","type":3,"user":{"id":"3"},"data":{"id":7,"custom_id":"pick","component_type":5,"values":["4"],"resolved":{"users":{"4":{"id":"4","username":"u"}}}}}`)
	cases["user option"] = []byte(`{"id":"2","type":2,"user":{"id":"3"},"data":{"id":"9","name":"war","options":[{"name":"user","type":6,"value":"4"}],"resolved":{"users":{"4":{"id":"4","username":"u"}},"members":{"4":{"nick":"n"}}}}}`)
	return cases
}

// The one-pass decoding gives what discordgo's gives.
func TestDecodeInteraction(t *testing.T) {
	t.Parallel()
	for name, raw := range decodeCases(t) {
		t.Run(name, func(t *testing.T) {
			var want, got discordgo.Interaction
			require.NoError(t, json.Unmarshal(raw, &want))
			require.NoError(t, decodeInteraction(raw, &got))
			require.Equal(t, want, got)
		})
	}
}

func TestDecodeInteractionRefusesBadJSON(t *testing.T) {
	t.Parallel()
	var i discordgo.Interaction
	for _, raw := range []string{`{`, `[]`, `{"type":"2"}`, `{"type":2,"data":{"options":{}}}`, `{"type":5,"data":{"components":[{"type":"x"}]}}`} {
		require.Error(t, decodeInteraction([]byte(raw), &i), raw)
	}
}
