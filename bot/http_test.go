package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
)

func TestInteractionsEndpoint(t *testing.T) {
	t.Parallel()
	pub, priv := fakediscord.NewKey()
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
		raw, err := fakediscord.MarshalInteraction(i)
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
		w, resp := do(fakediscord.SignedRequest(priv, []byte(`{"id":"1","type":1,"application_id":"1","token":"t","version":1}`), time.Now()))
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
		patient.InteractionsHandler().ServeHTTP(w, fakediscord.SignedRequest(priv, body(fakediscord.Command("/ping")), time.Now()))
		var resp discordgo.InteractionResponse
		require.Equal(t, http.StatusOK, w.Code)
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
		require.Equal(t, discordgo.InteractionResponseChannelMessageWithSource, resp.Type)
		require.Equal(t, "pong", resp.Data.Content)
	})

	t.Run("BadSignature", func(t *testing.T) {
		r := fakediscord.SignedRequest(priv, body(fakediscord.Command("/ping")), time.Now())
		r.Header.Set("X-Signature-Timestamp", "1") // signed over another timestamp
		w, _ := do(r)
		require.Equal(t, http.StatusUnauthorized, w.Code)

		_, other := fakediscord.NewKey()
		w, _ = do(fakediscord.SignedRequest(other, body(fakediscord.Command("/ping")), time.Now()))
		require.Equal(t, http.StatusUnauthorized, w.Code)

		r = fakediscord.SignedRequest(priv, body(fakediscord.Command("/ping")), time.Now())
		r.Header.Del("X-Signature-Ed25519")
		w, _ = do(r)
		require.Equal(t, http.StatusUnauthorized, w.Code)
	})

	t.Run("StaleOrFutureTimestamp", func(t *testing.T) {
		for _, at := range []time.Time{time.Now().Add(-6 * time.Minute), time.Now().Add(6 * time.Minute)} {
			w, _ := do(fakediscord.SignedRequest(priv, body(fakediscord.Command("/ping")), at))
			require.Equal(t, http.StatusUnauthorized, w.Code)
		}
	})

	t.Run("NotJSON", func(t *testing.T) {
		w, _ := do(fakediscord.SignedRequest(priv, []byte("{"), time.Now()))
		require.Equal(t, http.StatusBadRequest, w.Code)
	})

	t.Run("OnlyPost", func(t *testing.T) {
		w, _ := do(httptest.NewRequest(http.MethodGet, "/interactions", nil))
		require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	})

	t.Run("SlowHandlerDefersInlineAndEditsLater", func(t *testing.T) {
		// The deferral takes longer to reach Discord than the handler takes
		// to finish: the edit must still come after it.
		i := fakediscord.Command("/slow")
		w := tb.fake.ServeInteraction(h, fakediscord.SignedRequest(priv, body(i), time.Now()), 500*time.Millisecond)
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

// stubAdmitter counts how the bot asks: claims in a set, requests against
// a limit per key.
type stubAdmitter struct {
	mu                     sync.Mutex
	claimed                map[string]bool
	counted                map[string]int
	limit                  int
	admits, claims, allows int
}

func (s *stubAdmitter) Claim(_ context.Context, id string, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims++
	return s.claim(id), nil
}

func (s *stubAdmitter) claim(id string) bool {
	if s.claimed[id] {
		return false
	}
	s.claimed[id] = true
	return true
}

func (s *stubAdmitter) Allow(context.Context, string) (bool, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allows++
	return true, 0, nil
}

func (s *stubAdmitter) Admit(_ context.Context, id string, _ time.Duration, key string) (bool, Verdict, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admits++
	if !s.claim(id) {
		return false, Verdict{}, nil
	}
	s.counted[key]++
	if s.counted[key] > s.limit {
		return true, Verdict{RetryAfter: 30 * time.Second}, nil
	}
	return true, Verdict{OK: true}, nil
}

// With an Admitter, the replay claim and the rate limit are one call per
// interaction: the limiter is not asked again, a replay is not counted,
// and autocomplete is only claimed.
func TestInteractionsAdmittedInOneStep(t *testing.T) {
	t.Parallel()
	pub, priv := fakediscord.NewKey()
	admit := &stubAdmitter{claimed: map[string]bool{}, counted: map[string]int{}, limit: 2}
	choices := func(context.Context, *Request) (*Response, error) {
		return Choices(&discordgo.ApplicationCommandOptionChoice{Name: "pong", Value: "pong"}), nil
	}
	b, _ := setup(t, Options{PublicKey: pub, Admit: admit, DeferAfter: time.Minute}, Command{
		Definition: &discordgo.ApplicationCommand{Name: "ping", Description: "ping"},
		Routes:     []Route{{Path: "/ping", Handler: func(context.Context, *Request) (*Response, error) { return Reply("pong"), nil }, Autocomplete: choices}},
	})
	post := func(i *discordgo.Interaction) (int, string) {
		raw, err := fakediscord.MarshalInteraction(i)
		require.NoError(t, err)
		w := httptest.NewRecorder()
		b.InteractionsHandler().ServeHTTP(w, fakediscord.SignedRequest(priv, raw, time.Now()))
		var resp discordgo.InteractionResponse
		if w.Code == http.StatusOK {
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
			if resp.Data != nil {
				return w.Code, resp.Data.Content
			}
		}
		return w.Code, ""
	}
	first := fakediscord.Command("/ping")
	code, content := post(first)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "pong", content)
	code, _ = post(first)
	require.Equal(t, http.StatusConflict, code, "a replay is refused")
	code, content = post(fakediscord.Command("/ping"))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "pong", content, "the replay was not counted")
	_, content = post(fakediscord.Command("/ping"))
	require.Equal(t, "You are sending commands too fast. Try again in 30 seconds.", content)
	code, _ = post(fakediscord.Autocomplete("/ping"))
	require.Equal(t, http.StatusOK, code)

	require.Equal(t, 4, admit.admits)
	require.Equal(t, 1, admit.claims, "autocomplete: claimed, not counted")
	require.Zero(t, admit.allows, "the limiter was not asked a second time")
}
