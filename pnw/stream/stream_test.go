package stream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw/fakepnw"
	"pnwbot/pnw/stream"
)

const key = "stream-key"

type bundle struct {
	subs   *fakepnw.Subscriptions
	client *stream.Client
	wars   chan map[string]any
	done   chan error
	cancel context.CancelFunc
}

// setup runs a client on war create for defenders of alliance 7.
func setup(t *testing.T) *bundle {
	t.Helper()
	subs := newSubs(t)
	b := &bundle{subs: subs, wars: make(chan map[string]any, 100), done: make(chan error, 1)}
	b.client = stream.New(stream.Options{SubscriptionsURL: subs.URL, SocketURL: subs.SocketURL, APIKey: key})
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	t.Cleanup(func() {
		cancel()
		<-b.done
	})
	go func() {
		b.done <- b.client.Run(ctx, []stream.Subscription{{Model: "war", Event: "create", Filters: url.Values{"def_alliance_id": {"7,9"}}}},
			func(_ context.Context, e stream.Event) error {
				for _, r := range e.Records {
					var m map[string]any
					if err := json.Unmarshal(r, &m); err != nil {
						return err
					}
					b.wars <- m
				}
				return nil
			})
	}()
	b.waitConnected(t)
	return b
}

// newSubs is the game's subscriptions, where key may subscribe.
func newSubs(t *testing.T) *fakepnw.Subscriptions {
	t.Helper()
	game, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(game.Close)
	game.AddKey(key, 1)
	subs, err := fakepnw.NewSubscriptions(game)
	require.NoError(t, err)
	t.Cleanup(subs.Close)
	return subs
}

func (b *bundle) waitConnected(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.subs.WaitListeners(ctx, 1, 1))
	require.Eventually(t, b.client.Connected, 5*time.Second, 5*time.Millisecond)
}

// next returns the id of the next war delivered.
func (b *bundle) next(t *testing.T) float64 {
	t.Helper()
	select {
	case w := <-b.wars:
		return w["id"].(float64)
	case <-time.After(10 * time.Second):
		t.Fatal("no war delivered")
		return 0
	}
}

func (b *bundle) none(t *testing.T) {
	t.Helper()
	select {
	case w := <-b.wars:
		t.Fatalf("unexpected war %v", w["id"])
	case <-time.After(200 * time.Millisecond):
	}
}

func TestEventsOfTheFilteredAlliances(t *testing.T) {
	b := setup(t)
	b.subs.DeclareWar(fakepnw.War{ID: 1, AttID: 10, DefID: 20, DefAllianceID: 8}) // not ours
	b.subs.DeclareWar(fakepnw.War{ID: 2, AttID: 10, DefID: 21, DefAllianceID: 7, Reason: "raid"})
	b.subs.DeclareWar(fakepnw.War{ID: 3, AttID: 10, DefID: 22, DefAllianceID: 9})
	require.Equal(t, float64(2), b.next(t))
	require.Equal(t, float64(3), b.next(t))
	b.none(t)
	_, subscribes, auths := b.subs.Counts()
	require.Equal(t, 1, subscribes)
	require.Equal(t, 1, auths)
}

func TestReconnectReplaysTheGap(t *testing.T) {
	b := setup(t)
	b.subs.DeclareWar(fakepnw.War{ID: 1, DefAllianceID: 7})
	require.Equal(t, float64(1), b.next(t))

	b.subs.Refuse(true)
	b.subs.Drop(0) // the socket dies without a close code
	require.Eventually(t, func() bool { return !b.client.Connected() }, 5*time.Second, 5*time.Millisecond)
	b.subs.DeclareWar(fakepnw.War{ID: 2, DefAllianceID: 7}) // while nobody listens
	b.subs.Refuse(false)
	b.waitConnected(t)
	require.Equal(t, float64(2), b.next(t), "the war of the gap is replayed by rollback")
	b.none(t)
	sockets, subscribes, auths := b.subs.Counts()
	require.GreaterOrEqual(t, sockets, 2)
	require.Equal(t, 1, subscribes, "the channel is kept")
	require.Equal(t, 2, auths, "authorized again on the new socket")
}

func TestExpiredChannelSubscribesFromTheNewest(t *testing.T) {
	b := setup(t)
	b.subs.DeclareWar(fakepnw.War{ID: 1, DefAllianceID: 7})
	require.Equal(t, float64(1), b.next(t))

	b.subs.Refuse(true)
	b.subs.Drop(4200)
	require.Eventually(t, func() bool { return !b.client.Connected() }, 5*time.Second, 5*time.Millisecond)
	b.subs.DeclareWar(fakepnw.War{ID: 2, DefAllianceID: 7})
	b.subs.Expire()
	b.subs.Refuse(false)
	b.waitConnected(t)
	require.Equal(t, float64(2), b.next(t), "the new channel starts at the newest event seen")
	b.none(t)
	_, subscribes, _ := b.subs.Counts()
	require.Equal(t, 2, subscribes)
}

func TestCloseCodes(t *testing.T) {
	t.Run("4200 reconnects at once", func(t *testing.T) {
		b := setup(t)
		start := time.Now()
		b.subs.Drop(4200)
		require.Eventually(t, func() bool {
			sockets, _, _ := b.subs.Counts()
			return sockets == 2 && b.client.Connected()
		}, 10*time.Second, time.Millisecond)
		// Other codes wait at least a second first.
		require.Less(t, time.Since(start), time.Second)
		b.subs.DeclareWar(fakepnw.War{ID: 5, DefAllianceID: 7})
		require.Equal(t, float64(5), b.next(t))
	})
	t.Run("4001 stops for good", func(t *testing.T) {
		b := setup(t)
		b.subs.Drop(4001)
		select {
		case err := <-b.done:
			require.True(t, errors.Is(err, stream.ErrClosedForGood), "%v", err)
			b.done <- err // for the cleanup
		case <-time.After(10 * time.Second):
			t.Fatal("Run still runs after 4001")
		}
		require.False(t, b.client.Connected())
		sockets, _, _ := b.subs.Counts()
		require.Equal(t, 1, sockets, "no reconnect")
	})
}

func TestPingKeepsAQuietSocket(t *testing.T) {
	game, err := fakepnw.New()
	require.NoError(t, err)
	defer game.Close()
	game.AddKey(key, 1)
	subs, err := fakepnw.NewSubscriptions(game)
	require.NoError(t, err)
	defer subs.Close()
	subs.SetActivityTimeout(1)
	c := stream.New(stream.Options{SubscriptionsURL: subs.URL, SocketURL: subs.SocketURL, APIKey: key})
	// The fake closes a socket silent for a second past the activity
	// timeout.
	ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
	defer cancel()
	require.NoError(t, c.Run(ctx, []stream.Subscription{{Model: "war", Event: "create"}}, func(context.Context, stream.Event) error { return nil }))
	sockets, _, _ := subs.Counts()
	require.Equal(t, 1, sockets, "three quiet seconds with pings every second keep one socket")
}

func TestBadKeyIsNotInTheError(t *testing.T) {
	game, err := fakepnw.New()
	require.NoError(t, err)
	defer game.Close()
	subs, err := fakepnw.NewSubscriptions(game)
	require.NoError(t, err)
	defer subs.Close()
	var logged bytes.Buffer
	// Nothing listens on port 1: the subscribe call fails with its URL.
	c := stream.New(stream.Options{SubscriptionsURL: "http://127.0.0.1:1/subscriptions/v1", SocketURL: subs.SocketURL, APIKey: "secret-key-123",
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	require.NoError(t, c.Run(ctx, []stream.Subscription{{Model: "war", Event: "create"}}, func(context.Context, stream.Event) error { return nil }))
	require.Contains(t, logged.String(), "subscribe war/create")
	require.NotContains(t, logged.String(), "secret-key-123")
}

// positions is a stream.Positions in memory.
type positions struct {
	mu    sync.Mutex
	saved map[string]stream.Stamp
}

func (p *positions) Load(_ context.Context, key string) (stream.Stamp, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.saved[key]
	return s, ok, nil
}

func (p *positions) Save(_ context.Context, key string, s stream.Stamp) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.saved[key] = s
	return nil
}

func stampOf(t time.Time) stream.Stamp {
	return stream.Stamp{Millis: t.UnixMilli(), Nanos: int64(t.Nanosecond() % 1e6)}
}

// TestResumesFromTheSavedPosition: a new client resumes from the position
// another saved when it is recent, so the game replays what came since;
// from now when it is older than the game replays. It saves the newest
// event it sees.
func TestResumesFromTheSavedPosition(t *testing.T) {
	subs := newSubs(t)
	before := time.Now().Add(-time.Second)
	gap := subs.DeclareWar(fakepnw.War{AttID: 1, DefID: 2, DefAllianceID: 7})

	follow := func(p *positions) chan float64 {
		wars := make(chan float64, 10)
		c := stream.New(stream.Options{SubscriptionsURL: subs.URL, SocketURL: subs.SocketURL, APIKey: key, Positions: p})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.Run(ctx, []stream.Subscription{{Model: "war", Event: "create", Filters: url.Values{"def_alliance_id": {"7"}}}},
				func(_ context.Context, e stream.Event) error {
					for _, r := range e.Records {
						var m map[string]any
						require.NoError(t, json.Unmarshal(r, &m))
						wars <- m["id"].(float64)
					}
					return nil
				})
		}()
		t.Cleanup(func() {
			cancel()
			<-done
		})
		require.Eventually(t, c.Connected, 10*time.Second, 5*time.Millisecond)
		return wars
	}
	next := func(wars chan float64) float64 {
		select {
		case id := <-wars:
			return id
		case <-time.After(10 * time.Second):
			t.Fatal("no war delivered")
			return 0
		}
	}

	recent := &positions{saved: map[string]stream.Stamp{"war/create": stampOf(before)}}
	require.EqualValues(t, gap.ID, next(follow(recent)), "the war after the saved position is replayed")
	require.Eventually(t, func() bool {
		s, _, _ := recent.Load(t.Context(), "war/create")
		return s.Millis >= before.UnixMilli()+1000
	}, 10*time.Second, 5*time.Millisecond, "the newest event's time is saved")

	stale := &positions{saved: map[string]stream.Stamp{"war/create": stampOf(before.Add(-time.Hour))}}
	wars := follow(stale)
	later := subs.DeclareWar(fakepnw.War{AttID: 1, DefID: 2, DefAllianceID: 7})
	require.EqualValues(t, later.ID, next(wars), "an hour-old position is not resumed from: the gap is the poll's")
}
