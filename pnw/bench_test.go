package pnw_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

func withoutUsage(o *pnw.Options, _ *testBundle) { o.Usage = nil }

func backends() map[string]func(*pnw.Options, *testBundle) {
	return map[string]func(*pnw.Options, *testBundle){"redis": func(*pnw.Options, *testBundle) {}, "postgres": withPostgresCache}
}

// BenchmarkCachedLookup is a nation card served from each cache back-end.
func BenchmarkCachedLookup(b *testing.B) {
	for name, opt := range backends() {
		b.Run(name, func(b *testing.B) {
			c, tb := setup(b, opt, withoutUsage)
			if _, err := c.Nation(b.Context(), officerID); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := c.Nation(b.Context(), officerID); err != nil {
					b.Fatal(err)
				}
			}
			if n := tb.fake.Requests(); n != 1 {
				b.Fatalf("%d upstream requests, want 1", n)
			}
		})
	}
}

// BenchmarkColdLookup always goes to the fake: Nation waits out the batch
// window (5ms) to merge concurrent lookups; Alliance goes straight out.
func BenchmarkColdLookup(b *testing.B) {
	b.Run("nation", func(b *testing.B) {
		c, tb := setup(b, withoutCache, withoutUsage)
		tb.fake.SetKeyLimit(botKey, 1<<30, 0)
		for b.Loop() {
			if _, err := c.Nation(b.Context(), officerID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("alliance", func(b *testing.B) {
		c, tb := setup(b, withoutCache, withoutUsage)
		tb.fake.SetKeyLimit(botKey, 1<<30, 0)
		for b.Loop() {
			if _, err := c.Alliance(b.Context(), allianceID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEconomy measures the economy bound, the upstream requests per
// round (see economy).
func BenchmarkEconomy(b *testing.B) {
	for name := range backends() {
		b.Run(name, func(b *testing.B) {
			e := newEconomy(b, name)
			total, rounds := 0, 0
			for b.Loop() {
				b.StopTimer()
				c := e.client(b)
				b.StartTimer()
				total += e.round(b, c)
				rounds++
			}
			b.ReportMetric(float64(total)/float64(rounds), "requests/op")
		})
	}
}

// TestEconomy holds the economy bound in every test run.
func TestEconomy(t *testing.T) {
	t.Parallel()
	for name := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEconomy(t, name)
			e.round(t, e.client(t))
		})
	}
}

// economy: 1,000 nation lookups over 50 distinct nations from 20 concurrent
// callers, starting from an empty cache, must cost at most 50 upstream
// requests.
type economy struct {
	fake    *fakepnw.Server
	backend string
	rdb     *redis.Client
	prefix  string
	db      *store.Store
	clients int
}

const economyCallers, economyPerCaller, economyDistinct, economyBudget = 20, 50, 50, 50

func newEconomy(tb testing.TB, backend string) *economy {
	e := &economy{fake: newFake(tb), backend: backend, db: storetest.NewDB(tb)}
	e.rdb, e.prefix = storetest.NewRedis(tb)
	seed(e.fake)
	e.fake.SetKeyLimit(botKey, 1<<30, 0)
	for id := range economyDistinct {
		e.fake.AddNation(fakepnw.Nation{ID: 2000 + id, NationName: fmt.Sprint("N", id), AllianceID: allianceID})
	}
	return e
}

// client returns a client with an empty cache.
func (e *economy) client(tb testing.TB) *pnw.Client {
	cache := pnw.Cache(kv.NewRedisCache(e.rdb, fmt.Sprintf("%s%d:", e.prefix, e.clients)))
	e.clients++
	if e.backend == "postgres" {
		if _, err := e.db.Pool.Exec(tb.Context(), "TRUNCATE pnw_data_cache"); err != nil {
			tb.Fatal(err)
		}
		cache = kv.NewPostgresCache(e.db)
	}
	c, err := pnw.New(pnw.Options{URL: e.fake.URL, APIKey: botKey, Cache: cache})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// round makes the lookups with c, fails when they cost more than the budget
// and returns what they cost.
func (e *economy) round(tb testing.TB, c *pnw.Client) int {
	before := e.fake.Requests()
	var wg sync.WaitGroup
	for g := range economyCallers {
		wg.Go(func() {
			for j := range economyPerCaller {
				if _, err := c.Nation(tb.Context(), 2000+(g*7+j)%economyDistinct); err != nil {
					tb.Error(err)
				}
			}
		})
	}
	wg.Wait()
	requests := e.fake.Requests() - before
	if requests > economyBudget {
		tb.Fatalf("%d lookups cost %d upstream requests, want at most %d", economyCallers*economyPerCaller, requests, economyBudget)
	}
	return requests
}
