package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/store"
)

// serverLoad is what PostgreSQL and Redis had done for the binary at one
// moment, so that the CPU a command costs in them, which on this machine
// competes with the binary's, shows beside the binary's own:
//   - the CPU of the PostgreSQL backends connected to the benchmark's
//     database (from /proc; a backend that exits between two readings takes
//     its CPU with it), which leaves out the shared server's background
//     processes (WAL writer, checkpointer);
//   - the CPU of the benchmark's own redis-server and the commands it ran,
//     by name, those run by scripts included (INFO cpu, commandstats).
type serverLoad struct {
	backends map[int]time.Duration // by pid
	redisCPU time.Duration
	calls    map[string]int64 // Redis commands by name
}

// readServerLoad reads the load of st's database and of rdb, a Redis only
// the benchmark uses.
func readServerLoad(tb testing.TB, st *store.Store, rdb *redis.Client) serverLoad {
	tb.Helper()
	ctx := context.Background()
	l := serverLoad{backends: map[int]time.Duration{}, calls: map[string]int64{}}
	rows, err := st.Pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	require.NoError(tb, err)
	for rows.Next() {
		var pid int
		require.NoError(tb, rows.Scan(&pid))
		if cpu, err := procCPU(pid); err == nil { // else it has just exited
			l.backends[pid] = cpu
		}
	}
	require.NoError(tb, rows.Err())
	info, err := rdb.Info(ctx, "cpu", "commandstats").Result()
	require.NoError(tb, err)
	for _, line := range strings.Split(info, "\r\n") {
		name, value, _ := strings.Cut(line, ":")
		switch {
		case name == "used_cpu_sys" || name == "used_cpu_user":
			s, err := strconv.ParseFloat(value, 64)
			require.NoError(tb, err)
			l.redisCPU += time.Duration(s * float64(time.Second))
		case strings.HasPrefix(name, "cmdstat_"):
			calls, _, _ := strings.Cut(strings.TrimPrefix(value, "calls="), ",")
			n, err := strconv.ParseInt(calls, 10, 64)
			require.NoError(tb, err)
			l.calls[strings.TrimPrefix(name, "cmdstat_")] = n
		}
	}
	return l
}

// report adds to b, per command of n, the CPU PostgreSQL and Redis spent
// since before and the Redis commands run (scripts counted once, and the
// commands they ran counted again; the benchmark's own INFO left out), and
// logs those commands by name.
func (l serverLoad) report(b *testing.B, before serverLoad, n int) {
	var pg time.Duration
	for pid, cpu := range l.backends {
		pg += cpu - before.backends[pid] // a new backend started from 0
	}
	per := func(v float64) float64 { return v / float64(n) }
	b.ReportMetric(per(float64(pg.Microseconds())), "pg-cpu-µs/command")
	b.ReportMetric(per(float64((l.redisCPU - before.redisCPU).Microseconds())), "redis-cpu-µs/command")
	var all, scripts int64
	var names []string
	for _, name := range slices.Sorted(maps.Keys(l.calls)) {
		d := l.calls[name] - before.calls[name]
		if d == 0 || name == "info" {
			continue
		}
		all += d
		if name == "evalsha" || name == "eval" {
			scripts += d
		}
		names = append(names, fmt.Sprintf("%s %.2f", name, per(float64(d))))
	}
	b.ReportMetric(per(float64(all)), "redis-commands/command")
	b.ReportMetric(per(float64(scripts)), "redis-scripts/command")
	b.Logf("Redis commands per command: %s", strings.Join(names, ", "))
}

// procCPU is the CPU time process pid has used, user and system, from
// /proc (in clock ticks, 100 a second here).
func procCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses:
	// utime and stime are the 12th and 13th.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
