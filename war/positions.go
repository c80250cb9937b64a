package war

import (
	"context"
	"errors"

	"pnwbot/pnw/stream"
	"pnwbot/store"
)

// Positions keeps where the war stream is in PostgreSQL (stream_positions),
// so that the replica taking the stream over, or one restarted, asks the
// game to replay the gap instead of leaving it to the poll.
type Positions struct{ Store *store.Store }

// Load implements stream.Positions.
func (p Positions) Load(ctx context.Context, key string) (stream.Stamp, bool, error) {
	row, err := p.Store.StreamPositionGet(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return stream.Stamp{}, false, nil
	} else if err != nil {
		return stream.Stamp{}, false, err
	}
	return stream.Stamp{Millis: row.Millis, Nanos: row.Nanos}, true, nil
}

// Save implements stream.Positions.
func (p Positions) Save(ctx context.Context, key string, s stream.Stamp) error {
	return p.Store.StreamPositionAdvance(ctx, store.StreamPositionAdvanceParams{Stream: key, Millis: s.Millis, Nanos: s.Nanos})
}
