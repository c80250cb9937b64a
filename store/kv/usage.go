package kv

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	switch {
	case !errors.As(err, &pgErr):
		return err
	case pgErr.Code == "23503": // foreign_key_violation
		return fmt.Errorf("%w: %w", pnw.ErrUnknownCaller, err)
	case strings.HasPrefix(pgErr.Code, "22"), strings.HasPrefix(pgErr.Code, "23"): // data exception, integrity violation
		return fmt.Errorf("%w: %w", pnw.ErrRejectedRow, err)
	}
	return err
}
