package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/discordtest"
	"pnwbot/pnw/pnwtest"
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
	discord, game := newFakes(b)
	replicaWorld(game)
	game.AddNation(pnwtest.Nation{ID: 4242, NationName: "Testonia", LeaderName: "Tess", AllianceID: 9, AlliancePosition: "LEADER", NumCities: 30})
	const users = 400
	for i := range 300 {
		game.AddNation(pnwtest.Nation{ID: 10000 + i, NationName: fmt.Sprintf("Member %d", i), LeaderName: "M", AllianceID: 9, NumCities: 10 + i%20})
	}
	pub, priv := discordtest.NewKey()
	encryptionKey := secrets.GenerateKey()
	st := storetest.NewDB(b)
	env := replicaEnv(discord, game, pub, st.Pool.Config().ConnString(), redisDB(b, 12), encryptionKey)
	replicas := []*process{startProcess(b, env), startProcess(b, env)}

	// The leader binds the alliance; every user is linked and may view members.
	status, _ := post(b, replicas[0].base, priv, discordtest.ModalSubmit("link/submit", map[string]string{"api_key": playerKey}))
	require.Equal(b, http.StatusOK, status)
	status, r := post(b, replicas[0].base, priv, discordtest.Command("/alliance/setup"))
	require.Equal(b, http.StatusOK, status)
	require.Contains(b, r.Data.Content+fmt.Sprint(r.Data.Embeds), "Rose")
	alliance, err := st.AllianceGetByPnwID(ctx, 9)
	require.NoError(b, err)
	master, err := secrets.ParseKey(encryptionKey)
	require.NoError(b, err)
	keys, err := secrets.NewKeyring(master, nil)
	require.NoError(b, err)
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
		func() *discordgo.Interaction { return discordtest.Command("/me") },
		func() *discordgo.Interaction { return discordtest.Command("/me") },
		func() *discordgo.Interaction {
			return discordtest.Command("/nation", discordtest.Option("nation", "4242"))
		},
		func() *discordgo.Interaction { return discordtest.Command("/alliance/members") },
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}

	idle := make([]int64, len(replicas))
	for i, p := range replicas {
		idle[i] = memory(b, p, "VmRSS")
	}
	const clients = 16
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr sync.Once
	var failure error
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= b.N {
					return
				}
				i := discordtest.As(people[n%users], mix[n%len(mix)]())
				t0 := time.Now()
				err := send(client, replicas[n%2].base, priv, i)
				latencies[n] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { failure = err })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	require.NoError(b, failure, "%d of %d failed", failed.Load(), b.N)
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commands/s")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	for i, p := range replicas {
		b.ReportMetric(float64(idle[i])/(1<<20), fmt.Sprintf("idle-MiB-%d", i))
		b.ReportMetric(float64(memory(b, p, "VmHWM"))/(1<<20), fmt.Sprintf("loaded-MiB-%d", i))
	}
	b.ReportMetric(0, "ns/op") // the rate above says it better
}

// send posts one interaction and checks that it was answered.
func send(client *http.Client, base string, key ed25519.PrivateKey, i *discordgo.Interaction) error {
	body, err := discordtest.MarshalInteraction(i)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, base+"/interactions", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = discordtest.SignedRequest(key, body, time.Now()).Header
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", i.ApplicationCommandData().Name, resp.StatusCode, answer)
	}
	return nil
}

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
