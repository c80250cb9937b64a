package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Tx is a transaction of the pool, as the job queue (river) names it.
type Tx = pgx.Tx

// JobStates counts the job queue's jobs (river's river_job table, which
// river migrates itself) by state.
func (s *Store) JobStates(ctx context.Context) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rows, err := s.Pool.Query(ctx, `SELECT state::text, count(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, err
	}
	states := map[string]int64{}
	var state string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		states[state] = n
		return nil
	})
	return states, err
}
