package pnw_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

// Keys look like the game's: long and unique, so a leak is unmistakable.
const (
	botKey     = "botkey0123456789abcdef"
	officerKey = "officerkey0123456789ab"
	memberKey  = "memberkey0123456789abc"
	outsideKey = "outsidekey0123456789a"
	mutatorKey = "whitelistedbotkey01234"
)

const (
	allianceID = 7
	officerID  = 100
	memberID   = 101
	outsiderID = 102
)

type testBundle struct {
	fake   *fakepnw.Server
	db     *store.Store
	rdb    *redis.Client
	prefix string
	logs   *lockedBuffer
	reg    *prometheus.Registry
}

// newFake starts a fake game API, stopped when the test ends.
func newFake(t testing.TB) *fakepnw.Server {
	t.Helper()
	f, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(f.Close)
	return f
}

// setup returns a client over a fake world, caching in Redis and logging
// usage to a fresh database; opts adjust the options.
func setup(t testing.TB, opts ...func(*pnw.Options, *testBundle)) (*pnw.Client, *testBundle) {
	t.Helper()
	b := &testBundle{fake: newFake(t), db: storetest.NewDB(t), logs: &lockedBuffer{}, reg: prometheus.NewRegistry()}
	b.rdb, b.prefix = storetest.NewRedis(t)
	seed(b.fake)
	o := pnw.Options{
		URL:        b.fake.URL,
		APIKey:     botKey,
		BotKey:     mutatorKey,
		Cache:      kv.NewRedisCache(b.rdb, b.prefix),
		Usage:      kv.NewUsage(b.db),
		Registerer: b.reg,
		Logger:     slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, opt := range opts {
		opt(&o, b)
	}
	c, err := pnw.New(o)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, c.Close(ctx))
	})
	return c, b
}

func withPostgresCache(o *pnw.Options, b *testBundle) { o.Cache = kv.NewPostgresCache(b.db) }

func withoutCache(o *pnw.Options, _ *testBundle) { o.Cache = nil }

// seed builds a small world: alliance 7 with an officer who may see and
// withdraw from the bank, a member, and a nation outside it.
func seed(f *fakepnw.Server) {
	f.SetBotKey(mutatorKey)
	f.AddAlliance(fakepnw.Alliance{
		ID: allianceID, Name: "Rose", Acronym: "RS", Score: 12345.5, Rank: 3, Color: "red",
		Flag: "https://example.com/rose.png", DiscordLink: "https://discord.gg/rose",
		Founded: time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC),
		Bank:    pnw.Amounts{pnw.Money: 1_000_000, pnw.Food: 5000, pnw.Steel: 300},
	})
	f.AddAlliance(fakepnw.Alliance{ID: 8, Name: "Guardian", Acronym: "GOB"})
	f.AddNation(fakepnw.Nation{
		ID: officerID, NationName: "Arrakis", LeaderName: "Paul", AllianceID: allianceID, AlliancePosition: "OFFICER",
		Score: 2500.25, NumCities: 20, Color: "red", Soldiers: 100000, Tanks: 5000, Aircraft: 1500, Ships: 200,
		Missiles: 3, Nukes: 1, OffensiveWarsCount: 2, DefensiveWarsCount: 1, DiscordID: "555",
		LastActive: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Founded: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	f.AddNation(fakepnw.Nation{ID: memberID, NationName: "Caladan", LeaderName: "Leto", AllianceID: allianceID, Score: 1000})
	f.AddNation(fakepnw.Nation{ID: outsiderID, NationName: "Giedi Prime", LeaderName: "Vladimir", Score: 3000})
	f.AddNation(fakepnw.Nation{ID: 103, NationName: "Ix", AllianceID: allianceID, AlliancePosition: "APPLICANT"})
	f.AddKey(botKey, outsiderID)
	f.AddKey(officerKey, officerID, "alliance_view_bank", "alliance_withdraw_bank", "nation_view_trades")
	f.AddKey(memberKey, memberID)
	f.AddKey(outsideKey, outsiderID, "alliance_view_bank")
}

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// requireNoKey fails when any key appears in s.
func requireNoKey(t testing.TB, what, s string) {
	t.Helper()
	for _, k := range []string{botKey, officerKey, memberKey, outsideKey, mutatorKey} {
		require.False(t, strings.Contains(s, k), "%s contains a key: %s", what, s)
	}
}
