package pnw_test

import (
	"fmt"
	"sync"
	"testing"

	"pnwbot/pnw"
	"pnwbot/pnw/pnwtest"
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

// BenchmarkEconomy: 1,000 nation lookups over 50 distinct nations from 20
// concurrent callers, starting from an empty cache, must cost at most 50
// upstream requests.
func BenchmarkEconomy(b *testing.B) {
	const callers, perCaller, distinct, budget = 20, 50, 50, 50
	for name := range backends() {
		b.Run(name, func(b *testing.B) {
			fake := pnwtest.New(b)
			seed(fake)
			fake.SetKeyLimit(botKey, 1<<30, 0)
			for id := range distinct {
				fake.AddNation(pnwtest.Nation{ID: 2000 + id, NationName: fmt.Sprint("N", id), AllianceID: allianceID})
			}
			rdb, prefix := storetest.NewRedis(b)
			db := storetest.NewDB(b)
			total, rounds := 0, 0
			for b.Loop() {
				b.StopTimer()
				cache := pnw.Cache(pnw.NewRedisCache(rdb, fmt.Sprintf("%s%d:", prefix, rounds)))
				if name == "postgres" {
					if _, err := db.Pool.Exec(b.Context(), "TRUNCATE pnw_data_cache"); err != nil {
						b.Fatal(err)
					}
					cache = pnw.NewPostgresCache(db.Queries)
				}
				c, err := pnw.New(pnw.Options{URL: fake.URL, APIKey: botKey, Cache: cache})
				if err != nil {
					b.Fatal(err)
				}
				before := fake.Requests()
				b.StartTimer()

				var wg sync.WaitGroup
				for g := range callers {
					wg.Go(func() {
						for j := range perCaller {
							if _, err := c.Nation(b.Context(), 2000+(g*7+j)%distinct); err != nil {
								b.Error(err)
							}
						}
					})
				}
				wg.Wait()

				requests := fake.Requests() - before
				if requests > budget {
					b.Fatalf("%d lookups cost %d upstream requests, want at most %d", callers*perCaller, requests, budget)
				}
				total += requests
				rounds++
			}
			b.ReportMetric(float64(total)/float64(rounds), "requests/op")
		})
	}
}
