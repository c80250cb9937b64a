package adapter

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"pnwbot/pnw"
	"pnwbot/store"
)

// Usage is a pnw.UsageSink over the api_usage_logs table.
type Usage struct {
	st *store.Store
}

// NewUsage returns a usage sink writing to st.
func NewUsage(st *store.Store) *Usage {
	return &Usage{st: st}
}

// InsertUsage copies rows in with one COPY.
func (u *Usage) InsertUsage(ctx context.Context, rows []pnw.UsageRow) error {
	params := make([]store.APIUsageLogInsertBatchParams, len(rows))
	for i, r := range rows {
		params[i] = store.APIUsageLogInsertBatchParams(r)
	}
	_, err := u.st.APIUsageLogInsertBatch(ctx, params)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation
		return fmt.Errorf("%w: %w", pnw.ErrUnknownCaller, err)
	}
	return err
}
