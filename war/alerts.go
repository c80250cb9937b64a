package war

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/pnw/stream"
	"pnwbot/store"
)

// Alert is what an alert message shows, and where it goes.
type Alert struct {
	ID         int64  `json:"-"`
	AllianceID int64  `json:"-"` // the alliance's row, not its game id
	Kind       string `json:"-"`
	ChannelID  string `json:"-"`
	MessageID  string `json:"-"`
	// Ended says how the war ended, once it has (Peace, AttackerWon...).
	Ended string `json:"-"`

	War War `json:"war"`
	// Attacker and Defender are nil when the game could not be asked.
	Attacker *pnw.Nation `json:"attacker,omitempty"`
	Defender *pnw.Nation `json:"defender,omitempty"`
	// DefenderUser is the defender's linked Discord user, mentioned on a
	// defensive alert; PingRole the role it pings.
	DefenderUser string `json:"defender_user,omitempty"`
	PingRole     string `json:"ping_role,omitempty"`
}

// Notifier posts alerts and edits them; the bot's side implements it.
type Notifier interface {
	// PostAlert posts a new alert in a.ChannelID and returns its message id.
	PostAlert(ctx context.Context, a Alert) (messageID string, err error)
	// EditAlert rewrites a posted alert, a.Ended saying how the war ended.
	EditAlert(ctx context.Context, a Alert) error
	// OpenRoom starts a private thread under a.ChannelID, named after the
	// attacker, with the attacker's card, and returns its id.
	OpenRoom(ctx context.Context, a Alert) (threadID string, err error)
	// PostInRoom posts the alert of a later war against the same attacker.
	PostInRoom(ctx context.Context, threadID string, a Alert) error
	// AddToRoom adds a Discord user to a room.
	AddToRoom(ctx context.Context, threadID, userID string) error
	// ArchiveRoom archives a room whose wars all ended.
	ArchiveRoom(ctx context.Context, threadID string) error
}

// Options are what New needs.
type Options struct {
	Store    *store.Store
	Game     *pnw.Client
	Notifier Notifier
	// Stream follows the game's wars; nil polls only (PNW_SUBSCRIPTIONS=off).
	Stream     *stream.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Service is the war room's domain.
type Service struct {
	st     *store.Store
	game   *pnw.Client
	notify Notifier
	stream *stream.Client
	log    *slog.Logger
	audit  audit.Log
	m      *metrics

	mu    sync.Mutex
	state string // of the stream on this replica, for /readyz
}

// New returns the service; Follow runs its stream, Poll its reconciliation.
func New(o Options) *Service {
	s := &Service{st: o.Store, game: o.Game, notify: o.Notifier, stream: o.Stream, log: o.Logger, m: newMetrics(o.Registerer), state: "starting"}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.audit = audit.Log{Store: s.st, Logger: s.log}
	if s.stream == nil {
		s.state = "off (PNW_SUBSCRIPTIONS=off): the poll alone finds wars"
	}
	return s
}

// unsentAfter is how long a claimed alert may stay unsent before the poll
// sends it again: its sender died or Discord failed.
const unsentAfter = time.Minute

// Observe takes wars from the stream or the poll: each active war alerts
// every alliance with alerts on for its side, once (the claim in
// war_alerts decides who sends); each ended war edits its alerts once.
func (s *Service) Observe(ctx context.Context, wars ...War) error {
	var errs []error
	for _, w := range wars {
		if err := s.observe(ctx, w); err != nil {
			errs = append(errs, fmt.Errorf("war %d: %w", w.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) observe(ctx context.Context, w War) error {
	if w.Ended() {
		return s.end(ctx, w)
	}
	channels, err := s.st.WarAlertChannelsForWar(ctx, store.WarAlertChannelsForWarParams{
		AttackerAllianceID: w.AttackerAlliance, DefenderAllianceID: w.DefenderAlliance})
	if err != nil || len(channels) == 0 {
		return err
	}
	var errs []error
	var a *Alert // built once, for every alliance it alerts
	for _, c := range channels {
		// A war declared before its alerts were turned on is not news.
		if w.Date.Before(c.CreatedAt.Add(-time.Minute)) {
			continue
		}
		if a == nil {
			a = s.describe(ctx, w)
		}
		one := *a
		one.AllianceID, one.Kind, one.ChannelID = c.AllianceID, c.Kind, c.ChannelID
		if c.Kind == Defensive && c.PingRoleID != nil {
			one.PingRole = *c.PingRoleID
		}
		if c.Kind == Offensive {
			one.DefenderUser = "" // the enemy, even when they use the bot
		}
		details, _ := json.Marshal(one)
		row, err := s.st.WarAlertClaim(ctx, store.WarAlertClaimParams{AllianceID: c.AllianceID, WarID: w.ID, Kind: c.Kind,
			AttackerID: w.AttackerID, DefenderID: w.DefenderID, ChannelID: c.ChannelID, Details: details})
		if errors.Is(err, store.ErrNotFound) {
			continue // alerted already, by this replica or another
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		one.ID = row.ID
		errs = append(errs, s.post(ctx, one))
	}
	return errors.Join(errs...)
}

// describe gathers what an alert shows: both nations (cached lookups)
// and the defender's linked Discord user.
func (s *Service) describe(ctx context.Context, w War) *Alert {
	a := &Alert{War: w}
	nations, err := s.game.Nations(ctx, []int{int(w.AttackerID), int(w.DefenderID)})
	if err != nil {
		s.log.WarnContext(ctx, "war alert without the nations' details", "war_id", w.ID, "error", err)
	}
	for i := range nations.Data {
		n := nations.Data[i]
		switch n.Id {
		case strconv.FormatInt(w.AttackerID, 10):
			a.Attacker = &n
		case strconv.FormatInt(w.DefenderID, 10):
			a.Defender = &n
		}
	}
	if u, err := s.st.UserGetByNationID(ctx, &w.DefenderID); err == nil {
		a.DefenderUser = u.DiscordID
	}
	return a
}

// post sends a claimed alert and marks it sent; a failure leaves it
// claimed, for the poll to send after unsentAfter.
func (s *Service) post(ctx context.Context, a Alert) error {
	id, err := s.notify.PostAlert(ctx, a)
	if err != nil {
		return fmt.Errorf("post alert: %w", err)
	}
	details, _ := json.Marshal(a)
	if err := s.st.WarAlertSent(context.WithoutCancel(ctx), store.WarAlertSentParams{ID: a.ID, MessageID: &id, Details: details}); err != nil {
		return fmt.Errorf("mark alert %d sent: %w", a.ID, err)
	}
	s.m.alerts.WithLabelValues(a.Kind).Inc()
	s.m.delay.Observe(time.Since(a.War.Date).Seconds())
	return s.intoRoom(ctx, a)
}

// end marks an ended war's alerts and edits each sent one, once.
func (s *Service) end(ctx context.Context, w War) error {
	rows, err := s.st.WarAlertEnd(ctx, store.WarAlertEndParams{WarID: w.ID, Ended: ptr(w.Outcome())})
	if err != nil {
		return err
	}
	var errs []error
	for _, row := range rows {
		a, err := alertOf(row)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.War = w
		if a.MessageID == "" {
			continue // never posted: nothing to edit
		}
		if err := s.notify.EditAlert(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("edit alert %d: %w", row.ID, err))
			continue
		}
		errs = append(errs, s.st.WarAlertEndEdited(ctx, row.ID))
	}
	for _, row := range rows {
		errs = append(errs, s.closeRoom(ctx, row.AllianceID, row.AttackerID))
	}
	return errors.Join(errs...)
}

// alertOf rebuilds an alert from its row.
func alertOf(row store.WarAlert) (Alert, error) {
	var a Alert
	if err := json.Unmarshal(row.Details, &a); err != nil {
		return a, fmt.Errorf("alert %d details: %w", row.ID, err)
	}
	a.ID, a.AllianceID, a.Kind, a.ChannelID = row.ID, row.AllianceID, row.Kind, row.ChannelID
	if row.MessageID != nil {
		a.MessageID = *row.MessageID
	}
	if row.Ended != nil {
		a.Ended = *row.Ended
	}
	return a, nil
}

func ptr[T any](v T) *T { return &v }

// PollResult is what a poll did, for the job's log.
type PollResult struct {
	Alliances int `json:"alliances"`
	Active    int `json:"active_wars"`
	Ended     int `json:"ended_wars"`
	Resent    int `json:"resent"`
}

// maxOpenChecked bounds the alerted wars one poll asks the game about.
const maxOpenChecked = 500

// Poll reads the active wars of every alliance with alerts on (one
// request), alerts what the stream missed, learns how alerted wars that
// are no longer active ended, and sends alerts claimed but never sent.
func (s *Service) Poll(ctx context.Context) (PollResult, error) {
	var res PollResult
	channels, err := s.st.WarAlertChannelsAll(ctx)
	if err != nil {
		return res, err
	}
	var alliances []int
	for _, c := range channels {
		if !slices.Contains(alliances, int(c.PnwAllianceID)) {
			alliances = append(alliances, int(c.PnwAllianceID))
		}
	}
	res.Alliances = len(alliances)
	var errs []error
	active := map[int64]bool{}
	if len(alliances) > 0 {
		found, err := s.game.ActiveWars(ctx, alliances)
		if err != nil {
			return res, fmt.Errorf("active wars: %w", err)
		}
		for _, g := range found {
			w, err := FromGame(g)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			active[w.ID] = true
			errs = append(errs, s.observe(ctx, w))
		}
		res.Active = len(active)
	}

	open, err := s.st.WarAlertOpen(ctx, maxOpenChecked)
	if err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	var gone []int
	for _, row := range open {
		if !active[row.WarID] && !slices.Contains(gone, int(row.WarID)) {
			gone = append(gone, int(row.WarID))
		}
	}
	if len(gone) > 0 {
		found, err := s.game.WarsByID(ctx, gone)
		if err != nil {
			errs = append(errs, fmt.Errorf("ended wars: %w", err))
		}
		for _, g := range found {
			w, err := FromGame(g)
			if err == nil && w.Ended() {
				res.Ended++
				err = s.end(ctx, w)
			}
			errs = append(errs, err)
		}
	}

	unedited, err := s.st.WarAlertEndUnedited(ctx, ptr(time.Now().Add(-unsentAfter)))
	errs = append(errs, err)
	for _, row := range unedited {
		a, err := alertOf(row)
		if err == nil {
			err = s.notify.EditAlert(ctx, a)
		}
		if err == nil {
			err = s.st.WarAlertEndEdited(ctx, row.ID)
		}
		errs = append(errs, err)
	}

	unsent, err := s.st.WarAlertUnsent(ctx, time.Now().Add(-unsentAfter))
	errs = append(errs, err)
	for _, row := range unsent {
		row, err := s.st.WarAlertReclaim(ctx, store.WarAlertReclaimParams{ID: row.ID, StaleBefore: time.Now().Add(-unsentAfter)})
		if errors.Is(err, store.ErrNotFound) {
			continue // another replica took it
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		a, err := alertOf(row)
		if err == nil {
			err = s.post(ctx, a)
		}
		if err == nil {
			res.Resent++
		}
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

type metrics struct {
	alerts *prometheus.CounterVec
	delay  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pnwbot_war_alerts_total", Help: "War alerts posted, by kind (defensive, offensive).",
		}, []string{"kind"}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pnwbot_war_alert_delay_seconds", Help: "From a war's declaration (the game's date) to its alert posted.",
			Buckets: []float64{.25, .5, 1, 2, 5, 10, 30, 60, 150, 300, 900},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.alerts, m.delay)
	}
	return m
}
