package pnw

import (
	"errors"
	"fmt"
	"time"
)

var errNoDate = errors.New("pnw: no date")

// ParseTime reads the game's dates, which come in several formats
// ("2006-01-02 15:04:05", RFC 3339 with or without fraction, "2006-01-02").
// Dates without a zone are UTC, the game's time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		// Each layout's failure would allocate its error: a member list
		// without dates renders ten of these a page.
		return time.Time{}, errNoDate
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("pnw: unrecognized date %q", s)
}
