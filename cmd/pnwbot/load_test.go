package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/config"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// BenchmarkTwoReplicasLoad sends b.N interactions to POST /interactions of
// two replicas of the binary on one PostgreSQL and one Redis, alternately,
// from 16 clients: a mix of /me (linked users), /nation and /alliance
// members (300 members), each from one of 400 users so that no user meets
// the rate limit. It reports commands per second, the p99 latency, and each
// replica's resident memory idle (before) and loaded (peak).
//
//	go test -run '^$' -bench TwoReplicasLoad -benchtime 4000x ./cmd/pnwbot
func BenchmarkTwoReplicasLoad(b *testing.B) {
	ctx := context.Background()
	w := newLoadWorld(b, 12)
	const users = 400
	replicas := []*process{startProcess(b, w.env), startProcess(b, w.env)}

	// The leader binds the alliance; every user is linked and may view members.
	alliance := w.bind(b, replicas[0])
	st, keys, priv := w.st, w.keys, w.priv
	people := make([]*discordgo.User, users)
	for i := range people {
		people[i] = &discordgo.User{ID: strconv.Itoa(300000000000000000 + i), Username: fmt.Sprintf("user%d", i)}
		u, err := st.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: people[i].ID, DiscordUsername: people[i].Username, KeySalt: secrets.NewSalt()})
		require.NoError(b, err)
		nation := int64(10000 + i%300)
		if i < 300 {
			sealed, err := keys.Seal(fmt.Sprintf("memberkey%011d", i), u.KeySalt, secrets.NationKey(u.ID))
			require.NoError(b, err)
			_, err = st.UserLinkNation(ctx, store.UserLinkNationParams{ID: u.ID, PnwNationID: &nation, PnwApiKey: sealed, KeyPermissions: []byte(`{}`)})
			require.NoError(b, err)
		}
		_, err = st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: u.ID, AllianceID: alliance.ID, Role: "viewer", Permissions: []byte(`{}`)})
		require.NoError(b, err)
	}
	mix := []func() *discordgo.Interaction{
		func() *discordgo.Interaction { return fakediscord.Command("/me") },
		func() *discordgo.Interaction { return fakediscord.Command("/me") },
		func() *discordgo.Interaction {
			return fakediscord.Command("/nation", fakediscord.Option("nation", "4242"))
		},
		func() *discordgo.Interaction { return fakediscord.Command("/alliance/members") },
	}
	reqs := make([]signedInteraction, b.N)
	for n := range reqs {
		reqs[n] = sign(b, priv, fakediscord.As(people[n%users], mix[n%len(mix)]()))
	}

	idle := make([]int64, len(replicas))
	for i, p := range replicas {
		idle[i] = memory(b, p, "VmRSS")
	}
	b.ResetTimer()
	elapsed, latencies, _ := drive(b, func(n int) string { return replicas[n%2].base }, reqs, "", 0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commands/s")
	b.ReportMetric(ms(latencies[len(latencies)*99/100]), "p99-ms")
	b.ReportMetric(ms(latencies[len(latencies)/2]), "p50-ms")
	for i, p := range replicas {
		b.ReportMetric(float64(idle[i])/(1<<20), fmt.Sprintf("idle-MiB-%d", i))
		b.ReportMetric(float64(memory(b, p, "VmHWM"))/(1<<20), fmt.Sprintf("loaded-MiB-%d", i))
	}
	b.ReportMetric(0, "ns/op") // the rate above says it better
}

// loadWorld is the world of the load benchmarks: the fakes, where alliance
// 9 has 300 members and its leader's key is playerKey, a fresh database,
// and a replica's environment on it with Redis database redisN.
type loadWorld struct {
	game *fakepnw.Server
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	st   *store.Store
	keys *secrets.Keyring // the replicas' ENCRYPTION_KEY
	env  map[string]string
}

func newLoadWorld(b *testing.B, redisN int) *loadWorld {
	discord, game := newFakes(b)
	replicaWorld(game)
	game.AddNation(fakepnw.Nation{ID: 4242, NationName: "Testonia", LeaderName: "Tess", AllianceID: 9, AlliancePosition: "LEADER", NumCities: 30})
	for i := range 300 {
		game.AddNation(fakepnw.Nation{ID: 10000 + i, NationName: fmt.Sprintf("Member %d", i), LeaderName: "M", AllianceID: 9, NumCities: 10 + i%20})
	}
	w := &loadWorld{game: game, st: storetest.NewDB(b)}
	w.pub, w.priv = fakediscord.NewKey()
	encryptionKey := secrets.GenerateKey()
	master, err := secrets.ParseKey(encryptionKey)
	require.NoError(b, err)
	w.keys, err = secrets.NewKeyring(master, nil)
	require.NoError(b, err)
	w.env = replicaEnv(discord, game, w.pub, w.st.Pool.Config().ConnString(), redisDB(b, redisN), encryptionKey)
	return w
}

// bind links the leader and binds alliance 9 to the guild through p.
func (w *loadWorld) bind(b *testing.B, p *process) store.Alliance {
	status, _ := post(b, p.base, w.priv, fakediscord.ModalSubmit("link/submit", map[string]string{"api_key": playerKey}))
	require.Equal(b, http.StatusOK, status)
	status, r := post(b, p.base, w.priv, fakediscord.WithPermissions(fakediscord.Command("/alliance/setup"), discordgo.PermissionManageGuild))
	require.Equal(b, http.StatusOK, status)
	require.Contains(b, r.Data.Content+fmt.Sprint(r.Data.Embeds), "Rose")
	alliance, err := w.st.AllianceGetByPnwID(context.Background(), 9)
	require.NoError(b, err)
	return alliance
}

// benchClients is how many clients send interactions at once.
const benchClients = 16

// signedInteraction is a POST /interactions body with its signature, made
// before the clock starts so that the clients spend little of the machine.
type signedInteraction struct {
	body   []byte
	header http.Header
}

// sign marshals and signs i.
func sign(tb testing.TB, key ed25519.PrivateKey, i *discordgo.Interaction) signedInteraction {
	tb.Helper()
	body, err := fakediscord.MarshalInteraction(i)
	require.NoError(tb, err)
	return signedInteraction{body: body, header: fakediscord.SignedRequest(key, body, time.Now()).Header}
}

// drive sends reqs from benchClients clients, reqs[n] to base(n)'s POST
// /interactions, and returns how long they took, each one's latency,
// sorted, and how many were deferred (a handler slower than 2 s). It fails
// tb when an answer is neither a deferral nor a 200 holding want. With
// every set it sends open loop, reqs[n] at n·every from the start by
// whichever client is free, and a latency counts from that time (a request
// that waited for a client waited for the server): the latency at a set
// rate, not the queue that clients sending as fast as answers come build.
func drive(tb testing.TB, base func(n int) string, reqs []signedInteraction, want string, every time.Duration) (time.Duration, []time.Duration, int) {
	tb.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	latencies := make([]time.Duration, len(reqs))
	var next, failed, deferred atomic.Int64
	var firstErr sync.Once
	var failure error
	start := time.Now()
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(reqs) {
					return
				}
				due := time.Now()
				if every > 0 {
					due = start.Add(time.Duration(n) * every)
					time.Sleep(time.Until(due))
				}
				late, err := send(client, base(n), reqs[n], want)
				latencies[n] = time.Since(due)
				if late {
					deferred.Add(1)
				}
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { failure = err })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	require.NoError(tb, failure, "%d of %d failed", failed.Load(), len(reqs))
	slices.Sort(latencies)
	return elapsed, latencies, int(deferred.Load())
}

// send posts one interaction and checks that its answer holds want, unless
// it is a deferral.
func send(client *http.Client, base string, i signedInteraction, want string) (deferred bool, err error) {
	req, err := http.NewRequest(http.MethodPost, base+"/interactions", bytes.NewReader(i.body))
	if err != nil {
		return false, err
	}
	req.Header = i.header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	deferred = bytes.HasPrefix(answer, []byte(`{"type":5,`))
	if resp.StatusCode != http.StatusOK || !deferred && !bytes.Contains(answer, []byte(want)) {
		return deferred, fmt.Errorf("%s: %d %s", i.body, resp.StatusCode, answer)
	}
	return deferred, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// memory reads one of the process's memory figures (VmRSS: now, VmHWM:
// peak) from /proc, in bytes.
func memory(tb testing.TB, p *process, field string) int64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	require.NoError(tb, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(tb, err)
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, p.cmd.Process.Pid)
	return 0
}

// BenchmarkBinary measures pnwbot as a user runs it: the binary, built
// with go build and started on the test PostgreSQL and Redis against the
// fakes (DISCORD_GATEWAY=off), beside the floor, a process that only
// verifies the signature, decodes the interaction and answers. Each case
// sends b.N signed POST /interactions from 16 clients, each from a user
// who sent nothing before, to the floor and to the binary by turns of
// 1,000; it reports both rates, their ratio (share), the binary's p50 and p99, and
// what it allocated per command (from its /metrics). Since PostgreSQL and
// Redis share the machine's cores with the binary, it reports their part
// too, per command: the CPU of the database's backends and of a Redis of
// the benchmark's own (pg-cpu-µs, redis-cpu-µs: noisy while other tests use
// the shared PostgreSQL), the pool's connection acquisitions (pg-acquires:
// one a query, one a transaction) and the Redis commands (scripts and the
// commands they ran, listed by name in the log).
//
//	go test -run '^$' -bench Binary -benchtime 4000x ./cmd/pnwbot
//
// With -binary.rate=N it sends to the binary alone, at N commands a second
// over the 16 clients, open loop (see drive): p50 and p99 are then the
// latency at that rate, not at saturation, where they measure the queue.
//
//	go test -run '^$' -bench 'Binary/me' -benchtime 4000x ./cmd/pnwbot -binary.rate=2000
//
// With -binary.profile=DIR it also saves, for each case, pprof CPU and
// allocation profiles of the binary over the first 3 s of the load (make
// the load last that long: -benchtime 10000x).
func BenchmarkBinary(b *testing.B) {
	ctx := context.Background()
	w := newLoadWorld(b, 8)
	st, keys, priv, game := w.st, w.keys, w.priv, w.game
	// A Redis of its own, so that its CPU and commands are the binary's.
	rds := storetest.StartRedis(b)
	w.env[config.RedisURL] = rds.RedisURL()
	rdb := redis.NewClient(&redis.Options{Addr: rds.Addr})
	b.Cleanup(func() { rdb.Close() })
	bin := filepath.Join(b.TempDir(), "pnwbot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(b, err, "go build: %s", out)
	p := startCommand(b, exec.Command(bin, "run"), "", w.env)
	floor := startCommand(b, exec.Command(os.Args[0]), asFloor+"="+hex.EncodeToString(w.pub), nil)

	// The leader binds alliance 9; /nation 4242 and its members get cached.
	alliance := w.bind(b, p)
	for _, i := range []*discordgo.Interaction{
		fakediscord.Command("/nation", fakediscord.Option("nation", "4242")),
		fakediscord.Command("/alliance/members"),
	} {
		status, _ := post(b, p.base, priv, i)
		require.Equal(b, http.StatusOK, status)
	}

	// Every request comes from a new user: accounts, where a case needs
	// them, are made in bulk beforehand.
	next := 400000000000000000
	newUsers := func(n int) []*discordgo.User {
		users := make([]*discordgo.User, n)
		for i := range users {
			next++
			users[i] = &discordgo.User{ID: strconv.Itoa(next), Username: fmt.Sprintf("user%d", next)}
		}
		return users
	}
	accounts := func(b *testing.B, users []*discordgo.User) []store.User {
		batch := &pgx.Batch{}
		for _, u := range users {
			batch.Queue(`INSERT INTO users (discord_id, discord_username, key_salt) VALUES ($1, $2, $3) RETURNING id, key_salt`,
				u.ID, u.Username, secrets.NewSalt())
		}
		rows := make([]store.User, len(users))
		res := st.Pool.SendBatch(ctx, batch)
		defer res.Close()
		for i := range rows {
			require.NoError(b, res.QueryRow().Scan(&rows[i].ID, &rows[i].KeySalt))
		}
		return rows
	}
	linked := func(b *testing.B, users []*discordgo.User) {
		batch := &pgx.Batch{}
		for _, u := range accounts(b, users) {
			nation := 20000 + u.ID
			game.AddNation(fakepnw.Nation{ID: int(nation), NationName: fmt.Sprintf("Nation %d", nation), LeaderName: "L", AllianceID: 9, NumCities: 12})
			sealed, err := keys.Seal(fmt.Sprintf("benchkey%012d", u.ID), u.KeySalt, secrets.NationKey(u.ID))
			require.NoError(b, err)
			batch.Queue(`UPDATE users SET pnw_nation_id = $2, pnw_api_key = $3, key_permissions = '{}', key_verified_at = now() WHERE id = $1`,
				u.ID, nation, sealed)
		}
		require.NoError(b, st.Pool.SendBatch(ctx, batch).Close())
	}
	viewers := func(b *testing.B, users []*discordgo.User) {
		batch := &pgx.Batch{}
		for _, u := range accounts(b, users) {
			batch.Queue(`INSERT INTO alliance_managers (user_id, alliance_id, role, permissions) VALUES ($1, $2, 'viewer', '{}')`, u.ID, alliance.ID)
		}
		require.NoError(b, st.Pool.SendBatch(ctx, batch).Close())
	}

	// The pools fill up before any clock starts: a connection opened under
	// load would weigh on the first case alone (a PostgreSQL backend's
	// start costs milliseconds of its CPU).
	warmUp := make([]signedInteraction, 20*benchClients)
	for n, u := range newUsers(len(warmUp)) {
		warmUp[n] = sign(b, priv, fakediscord.As(u, fakediscord.Command("/me")))
	}
	drive(b, func(int) string { return p.base }, warmUp, "/link", 0)

	var every time.Duration // between two commands to the binary; 0: as fast as answers come
	if *binaryRate > 0 {
		every = time.Duration(float64(time.Second) / *binaryRate)
	}
	nation := fakediscord.Option("nation", "4242")
	for _, c := range []struct {
		name    string
		prepare func(*testing.B, []*discordgo.User) // the users' accounts
		i       func() *discordgo.Interaction
		want    string
		// warm sends each user's command once before the clock starts:
		// a linked /me looks up the user's own nation, cached afterwards.
		warm bool
	}{
		{"me-unlinked", nil, func() *discordgo.Interaction { return fakediscord.Command("/me") }, "/link", false},
		{"me-linked", linked, func() *discordgo.Interaction { return fakediscord.Command("/me") }, "led by L", true},
		{"nation-cached", nil, func() *discordgo.Interaction { return fakediscord.Command("/nation", nation) }, "Testonia", false},
		{"alliance-members-cached", viewers, func() *discordgo.Interaction { return fakediscord.Command("/alliance/members") }, "Member", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			users := newUsers(b.N)
			if c.prepare != nil {
				c.prepare(b, users)
			}
			sendAll := func(base string, reqs []signedInteraction, want string, every time.Duration) (time.Duration, []time.Duration, int) {
				return drive(b, func(int) string { return base }, reqs, want, every)
			}
			signAll := func() []signedInteraction {
				reqs := make([]signedInteraction, b.N)
				for n, u := range users {
					reqs[n] = sign(b, priv, fakediscord.As(u, c.i()))
				}
				return reqs
			}
			if c.warm {
				sendAll(p.base, signAll(), c.want, 0)
			}
			reqs := signAll()
			var profiles sync.WaitGroup
			if *profileDir != "" {
				for _, kind := range []string{"profile", "allocs"} {
					profiles.Go(func() { saveProfile(b, p, kind, filepath.Join(*profileDir, c.name+"."+kind+".pprof")) })
				}
			}
			mallocs, bytes := metric(b, p, "go_memstats_mallocs_total"), metric(b, p, "go_memstats_alloc_bytes_total")
			requests := game.Requests()
			acquires, servers := metric(b, p, "pnwbot_db_pool_acquires_total"), readServerLoad(b, st, rdb)
			fellBack := fallbacks(b, p)
			// The floor and the binary take turns, so that a change in the
			// machine's load (other work on it) weighs on both alike.
			const turn = 1000
			var floorTime, elapsed time.Duration
			var latencies []time.Duration
			deferred := 0
			cpu, floorCPU := cpuTime(b, p), cpuTime(b, floor)
			b.ResetTimer()
			for start := 0; start < b.N; start += turn {
				reqs := reqs[start:min(start+turn, b.N)]
				if every == 0 {
					took, _, _ := sendAll(floor.base, reqs, "pong", 0)
					floorTime += took
				}
				took, l, d := sendAll(p.base, reqs, c.want, every)
				elapsed, latencies, deferred = elapsed+took, append(latencies, l...), deferred+d
			}
			b.StopTimer()
			cpu, floorCPU = cpuTime(b, p)-cpu, cpuTime(b, floor)-floorCPU
			acquires = metric(b, p, "pnwbot_db_pool_acquires_total") - acquires
			fellBack = fallbacks(b, p) - fellBack
			readServerLoad(b, st, rdb).report(b, servers, b.N)
			slices.Sort(latencies)
			mallocs, bytes = metric(b, p, "go_memstats_mallocs_total")-mallocs, metric(b, p, "go_memstats_alloc_bytes_total")-bytes
			profiles.Wait()
			rate, floorRate := float64(b.N)/elapsed.Seconds(), float64(b.N)/floorTime.Seconds()
			b.ReportMetric(rate, "commands/s")
			if every == 0 {
				b.ReportMetric(floorRate, "floor-commands/s")
				b.ReportMetric(rate/floorRate, "share")
				b.ReportMetric(float64(floorCPU.Microseconds())/float64(b.N), "floor-cpu-µs/command")
			}
			b.ReportMetric(ms(latencies[len(latencies)/2]), "p50-ms")
			b.ReportMetric(ms(latencies[len(latencies)*99/100]), "p99-ms")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/command")
			b.ReportMetric(mallocs/float64(b.N), "allocs/command")
			b.ReportMetric(bytes/float64(b.N), "B/command")
			b.ReportMetric(float64(game.Requests()-requests)/float64(b.N), "api-requests/command")
			b.ReportMetric(acquires/float64(b.N), "pg-acquires/command")
			b.ReportMetric(fellBack/float64(b.N), "fallbacks/command")
			b.ReportMetric(float64(deferred)/float64(b.N), "deferred/command")
			b.ReportMetric(0, "ns/op") // the rate says it better
		})
	}
}

var (
	profileDir = flag.String("binary.profile", "", "BenchmarkBinary: save pprof profiles of the binary under load in this directory")
	binaryRate = flag.Float64("binary.rate", 0, "BenchmarkBinary: send to the binary at this many commands a second, open loop, without the floor (for p50 and p99 at a set rate); 0 sends as fast as answers come")
)

// saveProfile saves the binary's pprof profile kind ("profile": CPU,
// "allocs": allocations) over the next 3 s to path.
func saveProfile(tb testing.TB, p *process, kind, path string) {
	url := strings.TrimSuffix(p.metrics, "/metrics") + "/debug/pprof/" + kind + "?seconds=3"
	resp, err := http.Get(url)
	if err != nil {
		tb.Errorf("%s: %v", url, err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%d %s", resp.StatusCode, body)
	}
	if err == nil {
		err = os.WriteFile(path, body, 0o644)
	}
	if err != nil {
		tb.Errorf("%s: %v", url, err)
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(tb testing.TB, p *process) time.Duration {
	tb.Helper()
	cpu, err := procCPU(p.cmd.Process.Pid)
	require.NoError(tb, err)
	return cpu
}

// metric reads one unlabelled counter or gauge from the process's /metrics.
func metric(tb testing.TB, p *process, name string) float64 {
	tb.Helper()
	for _, line := range strings.Split(get(tb, p.metrics), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(tb, err)
			return f
		}
	}
	tb.Fatalf("no %s in %s", name, p.metrics)
	return 0
}

// fallbacks is how many calls the process sent to a fallback store
// (pnwbot_store_fallbacks_total, all uses and stores): under load, a Redis
// call past its deadline sends the next ones to PostgreSQL.
func fallbacks(tb testing.TB, p *process) float64 {
	tb.Helper()
	n := 0.0
	for _, line := range strings.Split(get(tb, p.metrics), "\n") {
		if rest, ok := strings.CutPrefix(line, "pnwbot_store_fallbacks_total{"); ok {
			f, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
			require.NoError(tb, err)
			n += f
		}
	}
	return n
}

// asFloor, when set in the environment to a hex public key, makes the test
// binary serve the floor of BenchmarkBinary instead of running tests.
const asFloor = "PNWBOT_TEST_FLOOR"

// floorRunning is the line the floor logs once it serves.
const floorRunning = "floor is running"

// serveFloor serves fakediscord.Floor on 127.0.0.1, at a free port.
func serveFloor(publicKey string) error {
	pub, err := hex.DecodeString(publicKey)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info(floorRunning, "http", l.Addr().String(), "metrics", "")
	return http.Serve(l, fakediscord.Floor(pub))
}
