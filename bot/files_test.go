package bot

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
)

// TestFilesAreSentInAnEdit: an HTTP interaction's first answer is JSON and
// cannot carry an attachment, so a reply with files is deferred at once and
// sent as an edit of the deferral, attachment included.
func TestFilesAreSentInAnEdit(t *testing.T) {
	t.Parallel()
	pub, priv := fakediscord.NewKey()
	png := []byte("\x89PNG fake")
	b, tb := setup(t, Options{PublicKey: pub, DeferAfter: time.Minute},
		route("chart", func(context.Context, *Request) (*Response, error) {
			return &Response{Embeds: []*discordgo.MessageEmbed{{Title: "chart", Image: &discordgo.MessageEmbedImage{URL: "attachment://chart.png"}}},
				Files: []*discordgo.File{{Name: "chart.png", ContentType: "image/png", Reader: bytes.NewReader(png)}}}, nil
		}, true))
	i := fakediscord.Command("/chart")
	raw, err := fakediscord.MarshalInteraction(i)
	require.NoError(t, err)
	w := tb.fake.ServeInteraction(b.InteractionsHandler(), fakediscord.SignedRequest(priv, raw, time.Now()), 0)
	require.Equal(t, http.StatusOK, w.Code)
	first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
	require.NoError(t, err)
	require.Equal(t, discordgo.InteractionResponseDeferredChannelMessageWithSource, first.Type)
	require.True(t, first.Ephemeral())
	edit, err := tb.fake.WaitEdit(waitCtx(t), i.Token)
	require.NoError(t, err)
	require.Equal(t, "attachment://chart.png", edit.Embeds[0].Image.URL)
	require.Equal(t, png, edit.Files["chart.png"])
}
