package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lock is a PostgreSQL session advisory lock held on a connection of its
// own, outside the pool commands use, so that a replica can hold it for as
// long as it runs something only one replica may run (a game stream).
type Lock struct {
	conn *pgx.Conn
}

// TryLock takes the session advisory lock key on a new connection; nil,
// nil when another session holds it.
func (s *Store) TryLock(ctx context.Context, key int64) (*Lock, error) {
	conn, err := pgx.ConnectConfig(ctx, s.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	var held bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&held); err != nil || !held {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return &Lock{conn: conn}, nil
}

// Check fails when the lock's connection is lost: the lock went with it.
func (l *Lock) Check(ctx context.Context) error {
	return l.conn.Ping(ctx)
}

// Release gives the lock back by closing its connection.
func (l *Lock) Release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	l.conn.Close(ctx)
}
