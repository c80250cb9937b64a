// Package war is the war room's domain: wars from the game's stream and
// from a poll that repairs what the stream missed, written through one
// idempotent claim so each war alerts each alliance once; how wars end;
// counters; war rooms. It has no Discord types: a Notifier renders.
package war

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"pnwbot/pnw"
)

// Kinds of alerts: a member defends, or a member attacks.
const (
	Defensive = "defensive"
	Offensive = "offensive"
)

// How a war ended, as war_alerts.ended keeps it.
const (
	Peace       = "peace"
	AttackerWon = "attacker_won"
	DefenderWon = "defender_won"
	Expired     = "expired"
)

// War is a war as the game reports it, through GraphQL or the stream.
type War struct {
	ID               int64     `json:"id"`
	Date             time.Time `json:"date"`
	EndDate          time.Time `json:"end_date,omitzero"`
	Reason           string    `json:"reason"`
	Type             string    `json:"war_type"`
	TurnsLeft        int       `json:"turns_left"`
	AttackerID       int64     `json:"att_id"`
	AttackerAlliance int64     `json:"att_alliance_id"`
	DefenderID       int64     `json:"def_id"`
	DefenderAlliance int64     `json:"def_alliance_id"`
	AttPoints        int       `json:"att_points"`
	DefPoints        int       `json:"def_points"`
	AttResistance    int       `json:"att_resistance"`
	DefResistance    int       `json:"def_resistance"`
	WinnerID         int64     `json:"winner_id"`
}

// Ended reports whether the war is over.
func (w War) Ended() bool { return !w.EndDate.IsZero() }

// Outcome says how an ended war ended: a winner, else expiry when its
// turns ran out, else peace.
func (w War) Outcome() string {
	switch {
	case w.WinnerID != 0 && w.WinnerID == w.AttackerID:
		return AttackerWon
	case w.WinnerID != 0:
		return DefenderWon
	case w.TurnsLeft <= 0:
		return Expired
	}
	return Peace
}

// FromGame reads a war of the GraphQL API.
func FromGame(g pnw.War) (War, error) {
	w := War{Reason: g.Reason, Type: string(g.WarType), TurnsLeft: g.TurnsLeft,
		AttPoints: g.AttPoints, DefPoints: g.DefPoints, AttResistance: g.AttResistance, DefResistance: g.DefResistance}
	ids := []struct {
		dst *int64
		s   string
	}{{&w.ID, g.Id}, {&w.AttackerID, g.AttId}, {&w.AttackerAlliance, g.AttAllianceId}, {&w.DefenderID, g.DefId},
		{&w.DefenderAlliance, g.DefAllianceId}, {&w.WinnerID, g.WinnerId}}
	for _, id := range ids {
		if err := parseID(id.dst, id.s); err != nil {
			return w, fmt.Errorf("war %s: %w", g.Id, err)
		}
	}
	return w, parseDates(&w, g.Date, g.EndDate)
}

// FromStream reads a war record of the stream: its ids may be numbers or
// strings, its dates in any of the game's formats.
func FromStream(raw json.RawMessage) (War, error) {
	var r struct {
		ID               flexID `json:"id"`
		Date             string `json:"date"`
		EndDate          string `json:"end_date"`
		Reason           string `json:"reason"`
		Type             string `json:"war_type"`
		TurnsLeft        int    `json:"turns_left"`
		AttackerID       flexID `json:"att_id"`
		AttackerAlliance flexID `json:"att_alliance_id"`
		DefenderID       flexID `json:"def_id"`
		DefenderAlliance flexID `json:"def_alliance_id"`
		AttPoints        int    `json:"att_points"`
		DefPoints        int    `json:"def_points"`
		AttResistance    int    `json:"att_resistance"`
		DefResistance    int    `json:"def_resistance"`
		WinnerID         flexID `json:"winner_id"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return War{}, fmt.Errorf("war record: %w", err)
	}
	w := War{ID: int64(r.ID), Reason: r.Reason, Type: r.Type, TurnsLeft: r.TurnsLeft,
		AttackerID: int64(r.AttackerID), AttackerAlliance: int64(r.AttackerAlliance),
		DefenderID: int64(r.DefenderID), DefenderAlliance: int64(r.DefenderAlliance),
		AttPoints: r.AttPoints, DefPoints: r.DefPoints, AttResistance: r.AttResistance, DefResistance: r.DefResistance,
		WinnerID: int64(r.WinnerID)}
	if w.ID <= 0 {
		return w, fmt.Errorf("war record without an id")
	}
	return w, parseDates(&w, r.Date, r.EndDate)
}

func parseDates(w *War, date, end string) error {
	var err error
	if w.Date, err = pnw.ParseTime(date); err != nil {
		return fmt.Errorf("war %d: %w", w.ID, err)
	}
	// The game's "no end" comes as null, "" or a zero date.
	if end != "" && !strings.HasPrefix(end, "0000") && !strings.HasPrefix(end, "-0001") {
		if w.EndDate, err = pnw.ParseTime(end); err != nil {
			return fmt.Errorf("war %d: %w", w.ID, err)
		}
	}
	return nil
}

func parseID(dst *int64, s string) error {
	if s == "" {
		*dst = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("id %q: %w", s, err)
	}
	*dst = n
	return nil
}

// flexID is an id sent as a number or a string.
type flexID int64

func (f *flexID) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		s = ""
	}
	var n int64
	err := parseID(&n, s)
	*f = flexID(n)
	return err
}
