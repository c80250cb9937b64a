// Package audit writes and reads the audit log: one Entry builder for every
// front door, state changes written with their entry in one transaction,
// refusals written on their own, and one page query. It knows nothing of
// Discord or HTTP.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"pnwbot/store"
)

// Entry is one audit row. Resource "user" and "nation" rows are about the
// acting user itself, and lose their details if the account is deleted.
type Entry struct {
	User       *int64
	Alliance   *int64
	Action     string
	Resource   string
	ResourceID string
	Old, New   any  // plain maps, secrets redacted by the caller
	Failed     bool // a refusal or denial: nothing changed
	// IP and UserAgent are the browser's, for entries of the web side.
	IP        *netip.Addr
	UserAgent string
}

// Params is the row to insert.
func (e Entry) Params() store.AuditLogInsertParams {
	marshal := func(v any) json.RawMessage {
		if v == nil {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // audit values are plain maps
		}
		return b
	}
	return store.AuditLogInsertParams{
		UserID: e.User, AllianceID: e.Alliance, Action: e.Action, ResourceType: e.Resource, ResourceID: e.ResourceID,
		OldValues: marshal(e.Old), NewValues: marshal(e.New), Success: !e.Failed, IpAddress: e.IP, UserAgent: e.UserAgent,
	}
}

// Log writes the audit log.
type Log struct {
	Store  *store.Store
	Logger *slog.Logger
}

// Change runs a state change and writes the entry it returns in one
// transaction, so no change is ever left unaudited.
func (l Log) Change(ctx context.Context, fn func(q *store.Queries) (Entry, error)) error {
	return l.Store.InTx(ctx, func(q *store.Queries) error {
		e, err := fn(q)
		if err != nil {
			return err
		}
		return Write(ctx, q, e)
	})
}

// Write writes e with q, inside a transaction the caller runs.
func Write(ctx context.Context, q *store.Queries, e Entry) error {
	if _, err := q.AuditLogInsert(ctx, e.Params()); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Record writes an entry on its own, outside any change: a refusal, a
// denial, or a pass that is its own record (a role sync). A failure is
// logged: what it records stands either way.
func (l Log) Record(ctx context.Context, e Entry) {
	if _, err := l.Store.AuditLogInsert(ctx, e.Params()); err != nil {
		l.Logger.ErrorContext(ctx, "audit write failed", "action", e.Action, "error", err)
	}
}

// Query filters a page of the log; nil fields do not filter.
type Query struct {
	User     *int64
	Alliance *int64
	Action   *string
	Since    *time.Time
}

// Page returns page n (from 0) of size rows of the log, newest first, with
// who acted and in which alliance, and whether more follow.
func (l Log) Page(ctx context.Context, q Query, n, size int) (rows []store.AuditLogPageRow, more bool, err error) {
	rows, err = l.Store.AuditLogPage(ctx, store.AuditLogPageParams{UserID: q.User, AllianceID: q.Alliance, Action: q.Action, Since: q.Since,
		RowOffset: int32(n * size), RowLimit: int32(size + 1)}) // one more tells whether more follow
	if err != nil {
		return nil, false, fmt.Errorf("audit page: %w", err)
	}
	return rows[:min(len(rows), size)], len(rows) > size, nil
}
