// Package storetest gives each test its own PostgreSQL database and its own
// Redis key space, so tests talk to the real servers and still run in parallel.
//
// TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) and
// TEST_REDIS_URL (default redis://127.0.0.1:6379/0) point at the servers.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"pnwbot/migrations"
	"pnwbot/store"
)

// DatabaseURL is the admin URL of the test server.
func DatabaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the URL of the test Redis.
func RedisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// NewEmptyDB creates a fresh, unmigrated database dropped when the test ends,
// and returns its URL.
func NewEmptyDB(t testing.TB) string {
	t.Helper()
	return createDB(t, "")
}

// NewDB returns a store over a fresh database with every migration applied.
// It clones a migrated template database, so it costs a few milliseconds.
func NewDB(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	dbURL := createDB(t, template(t))
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(pool.Close)
	return store.Wrap(pool)
}

func withDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func adminConn(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), DatabaseURL())
	if err != nil {
		t.Fatalf("storetest: connect to %s: %v (is PostgreSQL running?)", DatabaseURL(), err)
	}
	return conn
}

func createDB(t testing.TB, templateName string) string {
	t.Helper()
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "pnwbot_test_" + hex.EncodeToString(b[:])
	conn := adminConn(t)
	defer conn.Close(ctx)
	stmt := "CREATE DATABASE " + name
	if templateName != "" {
		stmt += " TEMPLATE " + templateName
	}
	// Cloning fails while another session is connected to the template;
	// retry briefly since templates are only connected to while being built.
	var err error
	for range 50 {
		if _, err = conn.Exec(ctx, stmt); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("storetest: %s: %v", stmt, err)
	}
	t.Cleanup(func() {
		conn := adminConn(t)
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop %s: %v", name, err)
		}
	})
	return withDatabase(DatabaseURL(), name)
}

// template returns the name of a migrated template database, named after a
// hash of the migrations (river's by their version) so a changed migration
// gets a fresh template.
func template(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	fmt.Fprintf(h, "river %d", store.RiverSchemaVersion())
	name := "pnwbot_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	conn := adminConn(t)
	defer conn.Close(ctx)
	// Test binaries of several packages run at once: one builds, the others wait.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7265431)"); err != nil {
		t.Fatalf("storetest: lock: %v", err)
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(7265431)") //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if exists {
		return name
	}
	building := name + "_build"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(DatabaseURL(), building))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	err = store.Migrate(ctx, pool, "up", io.Discard)
	pool.Close()
	if err != nil {
		t.Fatalf("storetest: migrate template: %v", err)
	}
	// Renaming only after a complete build means a crash never leaves a
	// half-migrated template behind.
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return name
}

// Tables lists, sorted, the tables the migrations leave behind: those their
// up sections create and do not drop again. Tests compare a schema with it
// rather than with a count each new table would break.
func Tables(t testing.TB) []string {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql") // in order
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	statement := regexp.MustCompile(`(?i)\b(CREATE|DROP)\s+TABLE\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(\w+)`)
	comment := regexp.MustCompile(`--.*`)
	exists := map[string]bool{}
	for _, f := range files {
		b, err := fs.ReadFile(migrations.FS, f)
		if err != nil {
			t.Fatalf("storetest: %v", err)
		}
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		for _, m := range statement.FindAllStringSubmatch(comment.ReplaceAllString(up, ""), -1) {
			exists[strings.ToLower(m[2])] = strings.EqualFold(m[1], "CREATE")
		}
	}
	var tables []string
	for name, ok := range exists {
		if ok {
			tables = append(tables, name)
		}
	}
	slices.Sort(tables)
	return tables
}

// NewRedis returns a client for the test Redis and a key prefix unique to
// this test; keys under the prefix are deleted when the test ends.
func NewRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("storetest: TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("storetest: redis at %s: %v (is Redis running?)", RedisURL(), err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	})
	return client, prefix
}
