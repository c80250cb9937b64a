package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/discordtest"
)

func TestInteractionsEndpoint(t *testing.T) {
	t.Parallel()
	pub, priv := discordtest.NewKey()
	b, tb := setup(t, Options{PublicKey: pub, DeferAfter: 50 * time.Millisecond},
		route("ping", func(context.Context, *Request) (*Response, error) { return Reply("pong"), nil }, false),
		route("slow", func(context.Context, *Request) (*Response, error) {
			time.Sleep(300 * time.Millisecond)
			return Reply("worth the wait"), nil
		}, true),
	)
	h := b.InteractionsHandler()
	require.NotNil(t, h)
	body := func(i *discordgo.Interaction) []byte {
		raw, err := discordtest.MarshalInteraction(i)
		require.NoError(t, err)
		return raw
	}
	do := func(r *http.Request) (*httptest.ResponseRecorder, *discordgo.InteractionResponse) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var resp discordgo.InteractionResponse
		if w.Code == http.StatusOK {
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
		}
		return w, &resp
	}

	t.Run("Ping", func(t *testing.T) {
		w, resp := do(discordtest.SignedRequest(priv, []byte(`{"id":"1","type":1,"application_id":"1","token":"t","version":1}`), time.Now()))
		require.Equal(t, http.StatusOK, w.Code)
		require.JSONEq(t, `{"type":1}`, w.Body.String())
		require.Equal(t, discordgo.InteractionResponsePong, resp.Type)
	})

	t.Run("GoodSignatureAnsweredInline", func(t *testing.T) {
		// Its own bot: with the 50 ms deferral above, a busy -race run can
		// defer even /ping.
		patient, _ := setup(t, Options{PublicKey: pub, DeferAfter: time.Second},
			route("ping", func(context.Context, *Request) (*Response, error) { return Reply("pong"), nil }, false))
		w := httptest.NewRecorder()
		patient.InteractionsHandler().ServeHTTP(w, discordtest.SignedRequest(priv, body(discordtest.Command("/ping")), time.Now()))
		var resp discordgo.InteractionResponse
		require.Equal(t, http.StatusOK, w.Code)
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
		require.Equal(t, discordgo.InteractionResponseChannelMessageWithSource, resp.Type)
		require.Equal(t, "pong", resp.Data.Content)
	})

	t.Run("BadSignature", func(t *testing.T) {
		r := discordtest.SignedRequest(priv, body(discordtest.Command("/ping")), time.Now())
		r.Header.Set("X-Signature-Timestamp", "1") // signed over another timestamp
		w, _ := do(r)
		require.Equal(t, http.StatusUnauthorized, w.Code)

		_, other := discordtest.NewKey()
		w, _ = do(discordtest.SignedRequest(other, body(discordtest.Command("/ping")), time.Now()))
		require.Equal(t, http.StatusUnauthorized, w.Code)

		r = discordtest.SignedRequest(priv, body(discordtest.Command("/ping")), time.Now())
		r.Header.Del("X-Signature-Ed25519")
		w, _ = do(r)
		require.Equal(t, http.StatusUnauthorized, w.Code)
	})

	t.Run("StaleOrFutureTimestamp", func(t *testing.T) {
		for _, at := range []time.Time{time.Now().Add(-6 * time.Minute), time.Now().Add(6 * time.Minute)} {
			w, _ := do(discordtest.SignedRequest(priv, body(discordtest.Command("/ping")), at))
			require.Equal(t, http.StatusUnauthorized, w.Code)
		}
	})

	t.Run("NotJSON", func(t *testing.T) {
		w, _ := do(discordtest.SignedRequest(priv, []byte("{"), time.Now()))
		require.Equal(t, http.StatusBadRequest, w.Code)
	})

	t.Run("OnlyPost", func(t *testing.T) {
		w, _ := do(httptest.NewRequest(http.MethodGet, "/interactions", nil))
		require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	})

	t.Run("SlowHandlerDefersInlineAndEditsLater", func(t *testing.T) {
		// The deferral takes longer to reach Discord than the handler takes
		// to finish: the edit must still come after it.
		i := discordtest.Command("/slow")
		w := tb.fake.ServeInteraction(h, discordtest.SignedRequest(priv, body(i), time.Now()), 500*time.Millisecond)
		require.Equal(t, http.StatusOK, w.Code)
		first, err := tb.fake.WaitResponse(waitCtx(t), i.ID)
		require.NoError(t, err)
		require.Equal(t, discordgo.InteractionResponseDeferredChannelMessageWithSource, first.Type)
		require.True(t, first.Ephemeral())
		edit, err := tb.fake.WaitEdit(waitCtx(t), i.Token)
		require.NoError(t, err)
		require.Equal(t, "worth the wait", edit.Content)
	})
}

func TestInteractionsEndpointNeedsAKey(t *testing.T) {
	t.Parallel()
	b, _ := setup(t, Options{})
	require.Nil(t, b.InteractionsHandler())
}

func TestFresh(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	require.True(t, fresh("1700000000", now))
	require.True(t, fresh("1699999701", now))
	require.False(t, fresh("1699999699", now))
	require.False(t, fresh("1700000301", now))
	require.False(t, fresh("", now))
	require.False(t, fresh("17e8", now))
}
