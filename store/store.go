// Package store is pnwbot's data layer: sqlc-generated queries over PostgreSQL
// (see ../queries) plus the pool, the transaction helper and migrations.
package store

//go:generate go tool sqlc generate -f ../sqlc.yaml

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"pnwbot/migrations"
)

// ErrNotFound is what a query expecting one row returns when there is none,
// in place of pgx.ErrNoRows: every Queries this package builds maps it.
var ErrNotFound = errors.New("not found")

// Store wraps the pool and the generated queries.
type Store struct {
	*Queries
	Pool  *pgxpool.Pool
	guard *guard
}

// Open connects to PostgreSQL with a pool of at most conns connections and
// checks the connection. Making a connection, or checking an idle one, is
// bounded by QueryTimeout unless the URL sets connect_timeout.
func Open(ctx context.Context, databaseURL string, conns int32) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, errors.New("parse DATABASE_URL: invalid connection string")
	}
	cfg.MaxConns = conns
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = QueryTimeout
	}
	cfg.PingTimeout = QueryTimeout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return Wrap(pool), nil
}

// Wrap wraps an existing pool.
func Wrap(pool *pgxpool.Pool) *Store {
	g := newGuard(pool.Config().MaxConns)
	return &Store{Queries: New(db{pool, g, true}), Pool: pool, guard: g}
}

// Close closes the pool.
func (s *Store) Close() { s.Pool.Close() }

// InTx runs fn in one transaction, committed when fn returns nil. It holds
// one turn at the pool throughout; BEGIN, each query and COMMIT have
// QueryTimeout each.
func (s *Store) InTx(ctx context.Context, fn func(*Queries) error) error {
	if err := foundUnavailable(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	release, err := s.guard.turn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer release()
	var tx pgx.Tx
	err = s.guard.run(ctx, func(ctx context.Context) (err error) {
		tx, err = s.Pool.Begin(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		// A no-op after commit; bounded, for a database that stopped answering.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), QueryTimeout)
		defer cancel()
		tx.Rollback(ctx) //nolint:errcheck
	}()
	if err := fn(New(db{tx, s.guard, false})); err != nil {
		return err
	}
	if err := s.guard.run(ctx, tx.Commit); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique violation on constraint
// (any constraint when constraint is "").
func IsUniqueViolation(err error, constraint string) bool {
	return isViolation(err, "23505", constraint)
}

// IsCheckViolation reports whether err is a check violation on constraint
// (any constraint when constraint is "").
func IsCheckViolation(err error, constraint string) bool {
	return isViolation(err, "23514", constraint)
}

func isViolation(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code &&
		(constraint == "" || pgErr.ConstraintName == constraint)
}

const nothingApplied = "nothing to roll back: no migration is applied"

// Migrate runs a goose command ("up", "down", "reset", "status") with the
// embedded migrations, writing what it did (or, for status, each migration
// and whether it is applied) to out, one line each.
func Migrate(ctx context.Context, pool *pgxpool.Pool, command string, out io.Writer) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	// Replicas starting together take turns: the first migrates, the others
	// then find nothing to do.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithGoMigrations(riverMigration(pool)))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	var results []*goose.MigrationResult
	switch command {
	case "up":
		results, err = provider.Up(ctx)
		if err == nil && len(results) == 0 {
			version, err := provider.GetDBVersion(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "already up to date (version %d)\n", version)
		}
	case "down":
		var result *goose.MigrationResult
		switch result, err = provider.Down(ctx); {
		case errors.Is(err, goose.ErrNoNextVersion):
			fmt.Fprintln(out, nothingApplied)
			return nil
		case result != nil:
			results = append(results, result)
		}
	case "reset":
		results, err = provider.DownTo(ctx, 0)
		if err == nil && len(results) == 0 {
			fmt.Fprintln(out, nothingApplied)
		}
	case "status":
		statuses, err := provider.Status(ctx)
		if err != nil {
			return err
		}
		for _, st := range statuses {
			applied := "pending"
			if st.State == goose.StateApplied {
				applied = "applied " + st.AppliedAt.Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(out, "%-30s %s\n", migrationName(st.Source), applied)
		}
		return nil
	default:
		return fmt.Errorf("unknown migrate command %q (want up, down, reset or status)", command)
	}
	for _, r := range results {
		if r.Source.Type == goose.TypeGo {
			fmt.Fprintf(out, "OK    %-4s %s (%s)\n", r.Direction, migrationName(r.Source), r.Duration.Round(time.Millisecond))
			continue
		}
		fmt.Fprintln(out, r)
	}
	return err
}

// RiverMigrationVersion is the goose version whose up applies every one of
// river's own migrations (the job queue's tables), and whose down removes
// them all: river keeps its own versions in river_migration.
const RiverMigrationVersion = 10

// riverMigration runs river's migrator on pool as goose migration
// RiverMigrationVersion. River migrates in its own transactions, hence RunDB.
func riverMigration(pool *pgxpool.Pool) *goose.Migration {
	run := func(direction rivermigrate.Direction, opts *rivermigrate.MigrateOpts) *goose.GoFunc {
		return &goose.GoFunc{RunDB: func(ctx context.Context, _ *sql.DB) error {
			m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
			if err != nil {
				return err
			}
			_, err = m.Migrate(ctx, direction, opts)
			return err
		}}
	}
	return goose.NewGoMigration(RiverMigrationVersion,
		run(rivermigrate.DirectionUp, nil),
		run(rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}))
}

// RiverSchemaVersion is the latest of river's own migrations this binary
// carries: a river upgrade that adds one changes it.
func RiverSchemaVersion() int {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		panic(err) // only a bad Config fails, and there is none
	}
	all := m.AllVersions()
	return all[len(all)-1].Version
}

// MigrationNames lists every migration in the order up applies them, named
// as migrate prints them.
func MigrationNames() ([]string, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, err
	}
	names = append(names, migrationName(&goose.Source{Type: goose.TypeGo, Version: RiverMigrationVersion}))
	slices.Sort(names) // zero-padded versions sort as text
	return names, nil
}

// migrationName is a migration's file name, or for river's, what it is.
func migrationName(src *goose.Source) string {
	if src.Type == goose.TypeGo {
		return fmt.Sprintf("%05d_river (river %d)", src.Version, RiverSchemaVersion())
	}
	return filepath.Base(src.Path)
}

// DeleteAccount removes a user and every personal row in one transaction:
// keys, sessions, manager and admin rows go by cascade; audit and usage rows
// keep the event without the link, and audit rows about the user itself lose
// their details (AuditLogScrubPersonal). The user is deleted before the audit row
// is written, so a missing user is ErrNotFound rather than a foreign-key
// error; the audit row then cannot name the deleted user, only another actor.
func (s *Store) DeleteAccount(ctx context.Context, userID int64, audit AuditLogInsertParams) error {
	return s.InTx(ctx, func(q *Queries) error {
		if sole, err := q.SoleAdminOf(ctx, userID); err != nil {
			return err
		} else if len(sole) > 0 {
			e := &SoleAdminError{}
			for _, a := range sole {
				e.Alliances = append(e.Alliances, a.Name)
			}
			return e
		}
		if _, err := q.AuditLogScrubPersonal(ctx, &userID); err != nil {
			return fmt.Errorf("scrub audit rows: %w", err)
		}
		n, err := q.UserDelete(ctx, userID)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		if audit.UserID != nil && *audit.UserID == userID {
			audit.UserID = nil
		}
		if _, err := q.AuditLogInsert(ctx, audit); err != nil {
			return fmt.Errorf("audit account deletion: %w", err)
		}
		return nil
	})
}

// SoleAdminError refuses to remove the only admin of alliances: no
// alliance is left without an admin who can manage its settings.
type SoleAdminError struct{ Alliances []string }

func (e *SoleAdminError) Error() string {
	return "the only admin of " + strings.Join(e.Alliances, ", ")
}

// SoleAdminOf locks the alliances the user is an admin of (as /alliance
// managers remove locks its alliance) and returns those they are the only
// admin of, in q's transaction.
func (q *Queries) SoleAdminOf(ctx context.Context, userID int64) ([]AllianceManagerSoleAdminOfRow, error) {
	if _, err := q.AllianceManagerLockAdminOf(ctx, userID); err != nil {
		return nil, fmt.Errorf("lock alliances: %w", err)
	}
	rows, err := q.AllianceManagerSoleAdminOf(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("sole admin: %w", err)
	}
	return rows, nil
}
