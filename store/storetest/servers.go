package storetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"pnwbot/store"
)

// Server is a database server process of the test's own, on a free port of
// 127.0.0.1, for tests that kill, stop or freeze one: the shared servers stay
// up. The test's end stops it for good.
type Server struct {
	t     testing.TB
	name  string
	args  []string // the command that (re)starts it
	ready string   // the line it logs once it accepts connections
	asPG  bool     // run as the postgres user when the test runs as root
	Addr  string   // host:port

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartRedis starts a redis-server of the test's own, keeping nothing on
// disk. Its URL is "redis://" + Addr.
func StartRedis(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("storetest: redis-server not found (scripts/test.sh installs it): %v", err)
	}
	s := &Server{t: t, name: "redis-server", ready: "Ready to accept connections"}
	s.listen(func(port string) []string {
		return []string{bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	})
	t.Cleanup(s.stop)
	return s
}

// RedisURL is the URL of a server StartRedis started.
func (s *Server) RedisURL() string { return "redis://" + s.Addr }

// StartPostgres initializes a PostgreSQL cluster in a temporary directory
// (initdb, trusting local connections as postgres) and starts it. URL
// reaches its postgres database; NewDB gives a test a migrated one.
func StartPostgres(t testing.TB) *Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "pnwbot-pg-")
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	s := &Server{t: t, name: "postgres", ready: "database system is ready to accept connections", asPG: os.Geteuid() == 0}
	if s.asPG {
		// initdb refuses to run as root: the cluster belongs to postgres.
		uid, gid := postgresUser(t)
		for _, err := range []error{os.Chmod(dir, 0o755), os.Chown(dir, uid, gid)} {
			if err != nil {
				t.Fatalf("storetest: %v", err)
			}
		}
	}
	initdb := s.command(pgBin(t, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-N", "-E", "UTF8", "--locale", "C")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("storetest: initdb: %v\n%s", err, out)
	}
	s.listen(func(port string) []string {
		return []string{pgBin(t, "postgres"), "-D", data, "-p", port, "-k", dir, "-c", "listen_addresses=127.0.0.1",
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}
	})
	t.Cleanup(s.stop)
	return s
}

// URL is the URL of the postgres database of a server StartPostgres started.
func (s *Server) URL() string {
	return "postgres://postgres@" + s.Addr + "/postgres?sslmode=disable"
}

// NewDB returns a store over a fresh database on s with every migration
// applied, closed when the test ends.
func (s *Server) NewDB(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	conn, err := pgxpool.New(ctx, s.URL())
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer conn.Close()
	name := fmt.Sprintf("pnwbot_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(s.URL(), name))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := store.Migrate(ctx, pool, "up", io.Discard); err != nil {
		t.Fatalf("storetest: migrate: %v", err)
	}
	return store.Wrap(pool)
}

// listen starts the server on a free port, and on another when the port
// was taken between freePort and the server's bind: the tests of other
// packages, running at the same time, take ports too.
func (s *Server) listen(args func(port string) []string) {
	s.t.Helper()
	for attempt := 1; ; attempt++ {
		port := freePort(s.t)
		s.Addr, s.args = "127.0.0.1:"+port, args(port)
		log, err := s.start()
		if err == nil {
			return
		}
		if attempt == 5 || !strings.Contains(log, "Address already in use") {
			s.t.Fatalf("storetest: %v:\n%s", err, log)
		}
	}
}

// Start starts the server (again, after Kill or Stop) and returns once it
// accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	if log, err := s.start(); err != nil {
		s.t.Fatalf("storetest: %v:\n%s", err, log)
	}
}

// start starts the server and waits until it accepts connections; on
// failure it returns what the server logged.
func (s *Server) start() (string, error) {
	cmd := s.command(s.args[0], s.args[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = cmd.Stdout // one pipe: redis logs to stdout, postgres to stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", s.name, err)
	}
	exited := make(chan struct{})
	ready := make(chan struct{})
	var log []string
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for isReady := false; sc.Scan(); {
			if !isReady {
				log = append(log, sc.Text())
				if isReady = strings.Contains(sc.Text(), s.ready); isReady {
					close(ready)
				}
			}
		}
		cmd.Wait() //nolint:errcheck // its end is what the test asked for, or shows below
	}()
	select {
	case <-ready:
	case <-exited:
		return strings.Join(log, "\n"), fmt.Errorf("%s exited before it was ready", s.name)
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-exited
		return strings.Join(log, "\n"), fmt.Errorf("%s not ready after a minute", s.name)
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return "", nil
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() { s.end(syscall.SIGKILL) }

// Stop shuts the server down cleanly (SIGINT: PostgreSQL's fast shutdown).
func (s *Server) Stop() { s.end(syscall.SIGINT) }

// Freeze stops the server and its children (SIGSTOP): connections stay
// open and nothing answers, as with a hung host. Signal it with Kill, Stop,
// Thaw, or the end of the test, never by hand.
func (s *Server) Freeze() { s.signalAll(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { s.signalAll(syscall.SIGCONT) }

func (s *Server) end(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if sig == syscall.SIGKILL {
		signalTree(cmd.Process.Pid, sig) // PostgreSQL's backends too: they would hold the log pipe open
	} else {
		signalTree(cmd.Process.Pid, syscall.SIGCONT) // a frozen process would not act on SIGINT
		if err := cmd.Process.Signal(sig); err != nil {
			s.t.Fatalf("storetest: signal %s: %v", s.name, err)
		}
	}
	<-exited
}

func (s *Server) signalAll(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("storetest: %s is not running", s.name)
	}
	signalTree(s.cmd.Process.Pid, sig)
}

// signalTree sends sig to pid and its descendants: PostgreSQL puts each
// backend in a session of its own, out of reach of a signal to the group.
func signalTree(pid int, sig syscall.Signal) {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], child)
		}
	}
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[0]
		todo = append(todo[1:], children[p]...)
		syscall.Kill(p, sig) //nolint:errcheck // one may have exited meanwhile
	}
}

// stop ends the server for good when the test ends.
func (s *Server) stop() { s.end(syscall.SIGKILL) }

// command runs name as the server's user.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if s.asPG {
		uid, gid := postgresUser(s.t)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		cmd.Env = append(os.Environ(), "HOME="+os.TempDir())
	}
	return cmd
}

// pgBin finds a PostgreSQL server program: Debian keeps them out of PATH,
// under /usr/lib/postgresql/VERSION/bin.
func pgBin(t testing.TB, name string) string {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	slices.SortFunc(found, func(a, b string) int { return pgVersion(a) - pgVersion(b) })
	if len(found) > 0 {
		return found[len(found)-1]
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("storetest: %s not found under /usr/lib/postgresql/*/bin or in PATH (scripts/test.sh installs PostgreSQL)", name)
	return ""
}

func pgVersion(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func postgresUser(t testing.TB) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("storetest: running as root, PostgreSQL needs the postgres user: %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// freePort returns a port of 127.0.0.1 where nothing listens.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
