package war

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"pnwbot/pnw/stream"
)

// streamLock is the PostgreSQL advisory lock of the replica that holds the
// game's war stream: one at a time, released when its connection closes.
const streamLock int64 = 0x706e77_7761_72 // "pnw" "war"

// recheck is how often a replica without the stream tries to take it, and
// the holder checks its lock and the alliances with alerts on: another
// replica takes over well within 30 s of the holder's death.
const recheck = 5 * time.Second

// StreamState says what the stream does on this replica, for /readyz: a
// replica stays ready without it, since the poll covers.
func (s *Service) StreamState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != streaming {
		return s.state
	}
	if s.stream.Connected() {
		return "connected"
	}
	return "connecting; the poll covers"
}

// StreamDown says why the stream is not working on a replica that should
// hold it (for /readyz, which stays ready: the poll covers), or "".
func (s *Service) StreamDown() string {
	state := s.StreamState()
	switch {
	case state == "connected", state == "starting", state == "held by another replica", state == "no alliance has war alerts on", state == waitingForDatabase:
		return ""
	case strings.HasPrefix(state, "off"):
		return ""
	}
	return state
}

const waitingForDatabase = "waiting for the database"

// streaming is the state while this replica runs the stream: connected
// or not, StreamState asks it.
const streaming = "streaming"

func (s *Service) setState(state string) {
	s.mu.Lock()
	changed := s.state != state
	s.state = state
	s.mu.Unlock()
	if changed {
		s.log.Info("war stream", "state", state)
	}
}

// Follow holds the game's war stream while this replica has the lock,
// until ctx ends; without a stream (PNW_SUBSCRIPTIONS=off) it returns at
// once.
func (s *Service) Follow(ctx context.Context) {
	if s.stream == nil {
		return
	}
	for ctx.Err() == nil {
		held, err := s.holdLock(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.setState(waitingForDatabase) // /readyz names the database itself

		case !held && ctx.Err() == nil:
			s.setState("held by another replica")
		}
		select {
		case <-ctx.Done():
		case <-time.After(recheck):
		}
	}
}

// holdLock takes the lock on a connection of its own and, while it
// holds it, follows the stream; it returns when the lock is lost, the
// stream ends for good, or ctx ends.
func (s *Service) holdLock(ctx context.Context) (bool, error) {
	lock, err := s.st.TryLock(ctx, streamLock)
	if err != nil || lock == nil {
		return false, err
	}
	defer lock.Release(ctx)

	var run *streamRun
	defer func() { run.stop() }()
	for {
		subs, err := s.subscriptions(ctx)
		if err != nil {
			return true, err
		}
		if run != nil && !sameSubs(subs, run.subs) {
			run.stop() // the alliances with alerts changed: subscribe anew
			run = nil
		}
		switch {
		case run == nil && len(subs) > 0:
			s.setState(streaming)
			run = s.startStream(ctx, subs)
		case len(subs) == 0:
			s.setState("no alliance has war alerts on")
		}
		var ended <-chan error
		if run != nil {
			ended = run.done
		}
		select {
		case <-ctx.Done():
			return true, nil
		case err := <-ended:
			run.done = nil // it has returned
			run = nil
			if errors.Is(err, stream.ErrClosedForGood) {
				s.setState("closed by the game (4000-4099): the poll alone finds wars until a restart")
				<-ctx.Done() // keep the lock: no other replica should reconnect either
				return true, nil
			}
		case <-time.After(recheck):
		}
		if err := lock.Check(ctx); err != nil && ctx.Err() == nil {
			return true, err // the lock may be gone with the connection
		}
	}
}

// streamRun is the stream running with one set of subscriptions.
type streamRun struct {
	subs   []stream.Subscription
	cancel context.CancelFunc
	done   chan error
}

func (s *Service) startStream(ctx context.Context, subs []stream.Subscription) *streamRun {
	r := &streamRun{subs: subs, done: make(chan error, 1)}
	ctx, r.cancel = context.WithCancel(ctx)
	go func() { r.done <- s.stream.Run(ctx, subs, s.handle) }()
	return r
}

// stop ends the run and waits for it.
func (r *streamRun) stop() {
	if r == nil {
		return
	}
	r.cancel()
	if r.done != nil {
		<-r.done
	}
}

// subscriptions are the game's war streams for the alliances with alerts
// on: creates and updates where a defensive alliance defends, and where an
// offensive one attacks.
func (s *Service) subscriptions(ctx context.Context) ([]stream.Subscription, error) {
	channels, err := s.st.WarAlertChannelsAll(ctx)
	if err != nil {
		return nil, err
	}
	ids := map[string][]string{}
	for _, c := range channels {
		field := "def_alliance_id"
		if c.Kind == Offensive {
			field = "att_alliance_id"
		}
		ids[field] = append(ids[field], strconv.FormatInt(c.PnwAllianceID, 10))
	}
	var subs []stream.Subscription
	for _, field := range []string{"att_alliance_id", "def_alliance_id"} {
		if len(ids[field]) == 0 {
			continue
		}
		slices.Sort(ids[field])
		for _, event := range []string{"create", "update"} {
			subs = append(subs, stream.Subscription{Model: "war", Event: event, Filters: url.Values{field: {strings.Join(ids[field], ",")}}})
		}
	}
	return subs, nil
}

func sameSubs(a, b []stream.Subscription) bool {
	return slices.EqualFunc(a, b, func(x, y stream.Subscription) bool { return x.String() == y.String() })
}

// handle takes the stream's war records.
func (s *Service) handle(ctx context.Context, e stream.Event) error {
	var errs []error
	for _, r := range e.Records {
		w, err := FromStream(r)
		if err == nil {
			err = s.observe(ctx, w)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
