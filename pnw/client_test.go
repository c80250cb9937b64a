package pnw_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
)

func TestMe(t *testing.T) {
	t.Parallel()

	t.Run("valid key", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t)
		info, err := c.Me(t.Context(), officerKey)
		require.NoError(t, err)
		require.Equal(t, "100", info.Nation.Id)
		require.Equal(t, "Arrakis", info.Nation.NationName)
		require.Equal(t, "7", info.Nation.AllianceId)
		require.Equal(t, pnw.AlliancePositionEnumOFFICER, info.Nation.AlliancePosition)
		require.True(t, info.Permissions.AllianceViewBank)
		require.True(t, info.Permissions.AllianceWithdrawBank)
		require.False(t, info.Permissions.AllianceRemoveMembers)
		require.Equal(t, fakepnw.DefaultMaxRequests, info.MaxRequests)
		require.Equal(t, 1, info.Requests)
	})

	t.Run("unknown key is invalid (401)", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t)
		_, err := c.Me(t.Context(), "nosuchkey0123456789")
		require.ErrorIs(t, err, pnw.ErrInvalidKey)
		var e *pnw.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, http.StatusUnauthorized, e.Status)
	})

	t.Run("GraphQL error about the key is invalid", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		b.fake.Fail(fakepnw.Failure{Message: "Invalid API key."})
		_, err := c.Me(t.Context(), memberKey)
		require.ErrorIs(t, err, pnw.ErrInvalidKey)
	})

	t.Run("never cached", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		for range 3 {
			_, err := c.Me(t.Context(), memberKey)
			require.NoError(t, err)
		}
		require.Equal(t, 3, b.fake.RequestsFor("me"))
	})
}

func TestNation(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]func(*pnw.Options, *testBundle){"redis": func(*pnw.Options, *testBundle) {}, "postgres": withPostgresCache} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, opt)
			r, err := c.Nation(t.Context(), officerID)
			require.NoError(t, err)
			require.False(t, r.Stale)
			n := r.Data
			require.Equal(t, "Arrakis", n.NationName)
			require.Equal(t, "Paul", n.LeaderName)
			require.Equal(t, "Rose", n.Alliance.Name)
			require.Equal(t, 20, n.NumCities)
			require.Equal(t, 2500.25, n.Score)
			require.Equal(t, 5000, n.Tanks)
			require.Equal(t, 2, n.OffensiveWarsCount)
			lastActive, err := pnw.ParseTime(n.LastActive)
			require.NoError(t, err)
			require.True(t, lastActive.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)))
			founded, err := pnw.ParseTime(n.Date)
			require.NoError(t, err)
			require.Equal(t, 2016, founded.Year())

			// Cached: no second request, until invalidated.
			again, err := c.Nation(t.Context(), officerID)
			require.NoError(t, err)
			require.Equal(t, n, again.Data)
			require.Equal(t, 1, b.fake.Requests())

			require.NoError(t, c.InvalidateTag(t.Context(), pnw.AllianceTag(allianceID)))
			_, err = c.Nation(t.Context(), officerID)
			require.NoError(t, err)
			require.Equal(t, 2, b.fake.Requests())

			_, err = c.Nation(t.Context(), 999)
			require.ErrorIs(t, err, pnw.ErrNotFound)

			outsider, err := c.Nation(t.Context(), outsiderID)
			require.NoError(t, err)
			require.Nil(t, outsider.Data.Alliance)
			require.Equal(t, "0", outsider.Data.AllianceId)
		})
	}
}

func TestNationLookupsAreMerged(t *testing.T) {
	t.Parallel()
	// A batch is sent when it is full or its window ends: with a window
	// longer than the test, only a full batch can send it, so every lookup
	// is in it however slowly the goroutines start.
	c, b := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.BatchWindow = time.Hour })
	const full = 500 // the game's limit for one nations query
	for id := 1000; id < 1000+full; id++ {
		b.fake.AddNation(fakepnw.Nation{ID: id, NationName: "N"})
	}
	var wg sync.WaitGroup
	for id := 1000; id < 1000+full; id++ {
		wg.Go(func() {
			r, err := c.Nation(t.Context(), id)
			require.NoError(t, err)
			require.Equal(t, "N", r.Data.NationName)
		})
	}
	wg.Wait()
	require.Equal(t, 1, b.fake.RequestsFor("nationsByID"))

	c, b = setup(t)
	b.fake.AddNation(fakepnw.Nation{ID: 1000, NationName: "N"})
	b.fake.AddNation(fakepnw.Nation{ID: 1001, NationName: "N"})
	for _, id := range []int{1000, 1001} {
		_, err := c.Nation(t.Context(), id)
		require.NoError(t, err)
	}
	before := b.fake.RequestsFor("nationsByID")
	r, err := c.Nations(t.Context(), []int{1000, 999999, 1001})
	require.NoError(t, err)
	require.Len(t, r.Data, 2, "a missing id is left out")
	require.Equal(t, before+1, b.fake.RequestsFor("nationsByID"), "only the missing id was asked for")
}

func TestIdenticalQueriesAreCoalesced(t *testing.T) {
	t.Parallel()
	c, b := setup(t, withoutCache)
	b.fake.SetDelay(100 * time.Millisecond)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r, err := c.AllianceMembers(t.Context(), allianceID)
			require.NoError(t, err)
			require.Len(t, r.Data, 3)
		})
	}
	wg.Wait()
	require.Equal(t, 1, b.fake.Requests())
}

func TestSharedLookupsOutliveTheirFirstCaller(t *testing.T) {
	t.Parallel()
	// The first caller gives up before the shared request is made or
	// answered; the second, merged into it, still gets its answer.

	t.Run("merged nation lookups", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.BatchWindow = 2 * time.Second })
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Nation(ctx, officerID) // opens the batch, then gives up
		require.ErrorIs(t, err, context.DeadlineExceeded)
		r, err := c.Nation(t.Context(), memberID)
		require.NoError(t, err)
		require.Equal(t, "Caladan", r.Data.NationName)
		require.Equal(t, 1, b.fake.RequestsFor("nationsByID"))
	})

	t.Run("coalesced queries", func(t *testing.T) {
		t.Parallel()
		// However the second call falls, joining the shared request or
		// reading what it cached, it makes no request of its own unless
		// the first caller's cancellation killed the shared one.
		c, b := setup(t)
		release := b.fake.Hold()
		defer release()
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { _, err := c.Alliance(ctx, allianceID); errc <- err }()
		require.NoError(t, b.fake.WaitRequests(t.Context(), 1)) // the query is under way
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)
		release()
		r, err := c.Alliance(t.Context(), allianceID)
		require.NoError(t, err)
		require.Equal(t, "Rose", r.Data.Name)
		require.Equal(t, 1, b.fake.Requests())
	})

	t.Run("a panic is an error, not a crash", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.HTTPClient = &http.Client{Transport: panicking{}} })
		_, err := c.Nation(t.Context(), officerID) // on the batcher's timer
		require.ErrorContains(t, err, "panic: a bug")
		_, err = c.Alliance(t.Context(), allianceID) // in singleflight
		require.ErrorContains(t, err, "panic: a bug")
	})
}

type panicking struct{}

func (panicking) RoundTrip(*http.Request) (*http.Response, error) { panic("a bug") }

func TestSearches(t *testing.T) {
	t.Parallel()
	c, b := setup(t)

	byName, err := c.NationsByName(t.Context(), " caladan ")
	require.NoError(t, err)
	require.Len(t, byName.Data, 1)
	require.Equal(t, "101", byName.Data[0].Id)

	byDiscord, err := c.NationsByDiscordID(t.Context(), "555")
	require.NoError(t, err)
	require.Len(t, byDiscord.Data, 1)
	require.Equal(t, "Arrakis", byDiscord.Data[0].NationName)

	none, err := c.NationsByName(t.Context(), "Nowhere")
	require.NoError(t, err)
	require.Empty(t, none.Data)

	// Search results warm the per-nation cache.
	before := b.fake.Requests()
	_, err = c.Nation(t.Context(), memberID)
	require.NoError(t, err)
	require.Equal(t, before, b.fake.Requests())

	alliances, err := c.AlliancesByName(t.Context(), "guardian")
	require.NoError(t, err)
	require.Len(t, alliances.Data, 1)
	require.Equal(t, "GOB", alliances.Data[0].Acronym)
}

func TestAlliance(t *testing.T) {
	t.Parallel()
	c, b := setup(t)
	r, err := c.Alliance(t.Context(), allianceID)
	require.NoError(t, err)
	a := r.Data
	require.Equal(t, "Rose", a.Name)
	require.Equal(t, "RS", a.Acronym)
	require.Equal(t, 3, a.Rank)
	require.Equal(t, "https://discord.gg/rose", a.DiscordLink)
	require.Equal(t, 2, a.MemberCount(), "the applicant is not a member")

	_, err = c.Alliance(t.Context(), 4040)
	require.ErrorIs(t, err, pnw.ErrNotFound)

	for i := range 1200 {
		b.fake.AddNation(fakepnw.Nation{ID: 5000 + i, AllianceID: 8})
	}
	members, err := c.AllianceMembers(t.Context(), 8)
	require.NoError(t, err)
	require.Len(t, members.Data, 1200)
	require.Equal(t, 3, b.fake.RequestsFor("allianceMembers"), "every page of 500")
}

func TestAllianceWarsAndTrades(t *testing.T) {
	t.Parallel()
	c, b := setup(t)
	b.fake.AddWar(fakepnw.War{ID: 1, AttID: officerID, AttAllianceID: allianceID, DefID: outsiderID, WarType: "RAID", Reason: "spice"})
	b.fake.AddWar(fakepnw.War{ID: 2, AttID: outsiderID, DefID: memberID, DefAllianceID: allianceID, WarType: "ORDINARY"})
	b.fake.AddWar(fakepnw.War{ID: 3, AttID: officerID, AttAllianceID: allianceID, DefID: outsiderID, Ended: time.Now()})
	b.fake.AddTrade(fakepnw.Trade{ID: 1, SenderID: officerID, OfferResource: "food", OfferAmount: 100, Price: 120, Date: time.Now().Add(-time.Hour)})
	b.fake.AddTrade(fakepnw.Trade{ID: 2, SenderID: memberID, OfferResource: "steel", OfferAmount: 10, Price: 3000, Date: time.Now()})
	b.fake.AddTrade(fakepnw.Trade{ID: 3, SenderID: outsiderID, OfferResource: "coal"})
	b.fake.SetTradePrices(fakepnw.TradePrice{Resource: "food", AveragePrice: 120, BestBuyPrice: 118, BestSellPrice: 125}, fakepnw.TradePrice{Resource: "coal", AveragePrice: 3000})

	wars, err := c.AllianceWars(t.Context(), allianceID)
	require.NoError(t, err)
	require.Len(t, wars.Data, 2, "active wars only")
	require.Equal(t, "Arrakis", wars.Data[0].Attacker.NationName)
	require.Equal(t, "Giedi Prime", wars.Data[0].Defender.NationName)
	require.Equal(t, pnw.WarTypeRAID, wars.Data[0].WarType)

	trades, err := c.AllianceTrades(t.Context(), officerKey, allianceID, 0)
	require.NoError(t, err)
	require.Len(t, trades.Data, 2)
	require.Equal(t, "steel", trades.Data[0].OfferResource, "newest first")

	prices, err := c.TradePrices(t.Context())
	require.NoError(t, err)
	require.Len(t, prices.Data.Resources, 2)
	require.Equal(t, 125, prices.Data.Resources[0].BestSellOffer.Price)
	require.Nil(t, prices.Data.Resources[1].BestBuyOffer)
}

func TestPrivateDataStaysInItsScope(t *testing.T) {
	t.Parallel()
	c, b := setup(t)
	b.fake.AddBankrec(fakepnw.Bankrec{ID: 1, SenderID: officerID, SenderType: 1, ReceiverID: allianceID, ReceiverType: 2, Resources: pnw.Amounts{pnw.Money: 10}})
	b.fake.AddBankrec(fakepnw.Bankrec{ID: 2, SenderID: officerID, SenderType: 1, ReceiverID: allianceID, ReceiverType: 2, Resources: pnw.Amounts{pnw.Money: 20}})
	b.fake.AddBankrec(fakepnw.Bankrec{ID: 3, SenderID: memberID, SenderType: 1, ReceiverID: allianceID, ReceiverType: 2, TaxID: 9, Resources: pnw.Amounts{pnw.Money: 5}})

	bank, err := c.AllianceBank(t.Context(), officerKey, allianceID)
	require.NoError(t, err)
	require.Equal(t, 1_000_000.0, bank.Data.Money)
	require.Equal(t, 5000.0, bank.Data.Food)

	// Another key is never served the officer's cached bank.
	for _, key := range []string{memberKey, outsideKey} {
		_, err = c.AllianceBank(t.Context(), key, allianceID)
		require.ErrorIs(t, err, pnw.ErrPermission)
	}
	require.Equal(t, 3, b.fake.RequestsFor("allianceBank"))

	recs, err := c.AllianceBankRecords(t.Context(), officerKey, allianceID, 1)
	require.NoError(t, err)
	require.Len(t, recs.Data, 1)
	require.Equal(t, "2", recs.Data[0].Id, "newest first")
	_, err = c.AllianceBankRecords(t.Context(), memberKey, allianceID, 1)
	require.ErrorIs(t, err, pnw.ErrPermission)

	taxes, err := c.AllianceTaxRecords(t.Context(), officerKey, allianceID, 0)
	require.NoError(t, err)
	require.Len(t, taxes.Data, 1)
	require.Equal(t, "9", taxes.Data[0].TaxId)
	_, err = c.AllianceTaxRecords(t.Context(), outsideKey, allianceID, 0)
	require.ErrorIs(t, err, pnw.ErrPermission)
}

func TestBankWithdraw(t *testing.T) {
	t.Parallel()

	t.Run("executes once and invalidates the bank", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		before, err := c.AllianceBank(t.Context(), officerKey, allianceID)
		require.NoError(t, err)
		require.Equal(t, 1_000_000.0, before.Data.Money)

		rec, err := c.BankWithdraw(t.Context(), officerKey, pnw.Withdrawal{ReceiverID: memberID, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: 250_000, pnw.Food: 100}, Note: "grant"})
		require.NoError(t, err)
		require.Equal(t, "7", rec.SenderId)
		require.Equal(t, "101", rec.ReceiverId)
		require.Equal(t, 250_000.0, rec.Money)
		require.Equal(t, 750_000.0, b.fake.Alliance(allianceID).Bank[pnw.Money])
		require.Equal(t, 1, b.fake.RequestsFor("bankWithdraw"))

		after, err := c.AllianceBank(t.Context(), officerKey, allianceID)
		require.NoError(t, err)
		require.Equal(t, 750_000.0, after.Data.Money)
	})

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		noBotKey, _ := setup(t, func(o *pnw.Options, _ *testBundle) { o.BotKey = "" })
		wrongBotKey, _ := setup(t, func(o *pnw.Options, _ *testBundle) { o.BotKey = "notwhitelisted" })
		w := pnw.Withdrawal{ReceiverID: memberID, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: 1}}

		_, err := noBotKey.BankWithdraw(t.Context(), officerKey, w)
		require.ErrorIs(t, err, pnw.ErrPermission)
		_, err = wrongBotKey.BankWithdraw(t.Context(), officerKey, w)
		require.ErrorIs(t, err, pnw.ErrPermission)
		_, err = c.BankWithdraw(t.Context(), memberKey, w)
		require.ErrorIs(t, err, pnw.ErrPermission)
		_, err = c.BankWithdraw(t.Context(), officerKey, pnw.Withdrawal{ReceiverID: memberID, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: -1}})
		require.ErrorIs(t, err, pnw.ErrInvalidQuery)
		_, err = c.BankWithdraw(t.Context(), officerKey, pnw.Withdrawal{ReceiverID: memberID, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: 5e9}})
		require.Error(t, err)
		require.Contains(t, err.Error(), "not have enough money")
		require.Equal(t, 1_000_000.0, b.fake.Alliance(allianceID).Bank[pnw.Money])
	})
}

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		failure fakepnw.Failure
		kind    error
		status  int
	}{
		"401":                {fakepnw.Failure{Status: 401}, pnw.ErrInvalidKey, 401},
		"GraphQL key error":  {fakepnw.Failure{Message: "The API key you provided is invalid or has been revoked."}, pnw.ErrInvalidKey, 200},
		"missing permission": {fakepnw.Failure{Message: "This API key does not have the alliance_view_bank permission."}, pnw.ErrPermission, 200},
		"bad bot key":        {fakepnw.Failure{Message: "Invalid bot key."}, pnw.ErrPermission, 200},
		"500":                {fakepnw.Failure{Status: 500}, pnw.ErrGameDown, 500},
		"502":                {fakepnw.Failure{Status: 502}, pnw.ErrGameDown, 502},
		"invalid query":      {fakepnw.Failure{Message: `Cannot query field "spice" on type "Nation".`}, pnw.ErrInvalidQuery, 200},
		"429":                {fakepnw.Failure{Status: 429, Reset: time.Now().Add(time.Hour)}, pnw.ErrRateLimited, 429},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, withoutCache)
			b.fake.Fail(tc.failure)
			_, err := c.Alliance(t.Context(), allianceID)
			for _, kind := range []error{pnw.ErrInvalidKey, pnw.ErrPermission, pnw.ErrRateLimited, pnw.ErrGameDown, pnw.ErrInvalidQuery, pnw.ErrNotFound} {
				require.Equal(t, kind == tc.kind, errors.Is(err, kind), "errors.Is(err, %v)", kind)
			}
			var e *pnw.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.status, e.Status)
			require.Equal(t, "alliancesByID", e.Op)
			want := fmt.Sprintf("pnw alliancesByID: %v (HTTP %d)", tc.kind, tc.status)
			if tc.kind == pnw.ErrRateLimited {
				require.WithinDuration(t, tc.failure.Reset, e.Reset, time.Second)
				want += " until " + e.Reset.UTC().Format(time.RFC3339)
			}
			require.True(t, strings.HasPrefix(err.Error(), want), "%q does not start with %q", err, want)
		})
	}

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.Timeout = 50 * time.Millisecond })
		b.fake.SetDelay(2 * time.Second)
		start := time.Now()
		_, err := c.Alliance(t.Context(), allianceID)
		require.ErrorIs(t, err, pnw.ErrGameDown)
		require.Less(t, time.Since(start), time.Second)
	})

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.URL = closedURL })
		_, err := c.Alliance(t.Context(), allianceID)
		require.ErrorIs(t, err, pnw.ErrGameDown)
	})

	t.Run("caller gave up", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		b.fake.SetDelay(2 * time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Alliance(ctx, allianceID)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// closedURL is an endpoint nothing listens on, ever: a port freed by the
// test could be taken meanwhile by a server of a test running in parallel.
const closedURL = "http://127.0.0.1:1/graphql"

func TestRateLimits(t *testing.T) {
	t.Parallel()

	t.Run("429 waits for the reset and retries", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		b.fake.Fail(fakepnw.Failure{Status: 429, Reset: time.Now().Add(300 * time.Millisecond), Times: 1})
		start := time.Now()
		_, err := c.Alliance(t.Context(), allianceID)
		require.NoError(t, err)
		require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
		require.Equal(t, 2, b.fake.Requests())
	})

	t.Run("a reset out of reach fails fast", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		reset := time.Now().Add(2 * time.Minute)
		b.fake.Fail(fakepnw.Failure{Status: 429, Reset: reset, Times: 1})
		_, err := c.Alliance(t.Context(), allianceID)
		require.ErrorIs(t, err, pnw.ErrRateLimited)
		var e *pnw.Error
		require.ErrorAs(t, err, &e)
		require.WithinDuration(t, reset, e.Reset, time.Second)
		require.Equal(t, 1, b.fake.Requests())
	})

	t.Run("a caller waits for the reset only as long as its context", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		b.fake.Fail(fakepnw.Failure{Status: 429, Reset: time.Now().Add(5 * time.Second), Times: 1})
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Alliance(ctx, allianceID)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 2*time.Second)
		require.Equal(t, 1, b.fake.Requests())
	})

	t.Run("a shared lookup does not wait out a long reset", func(t *testing.T) {
		t.Parallel()
		// The callers have no deadline, but the shared fetch does: a reset
		// within maxRateWait yet beyond it fails fast.
		c, b := setup(t, withoutCache)
		b.fake.Fail(fakepnw.Failure{Status: 429, Reset: time.Now().Add(45 * time.Second)})
		start := time.Now()
		_, err := c.Alliance(t.Context(), allianceID)
		require.ErrorIs(t, err, pnw.ErrRateLimited)
		_, err = c.Nation(t.Context(), officerID)
		require.ErrorIs(t, err, pnw.ErrRateLimited)
		require.Less(t, time.Since(start), 5*time.Second)
		require.Equal(t, 1, b.fake.Requests(), "the key rests until the reset")
	})

	t.Run("a key out of daily requests rests until the reset", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		b.fake.SetKeyLimit(officerKey, 2000, 1999)
		_, err := c.AllianceBank(t.Context(), officerKey, allianceID) // the last request of the day
		require.NoError(t, err)
		_, err = c.AllianceBank(t.Context(), officerKey, allianceID)
		require.ErrorIs(t, err, pnw.ErrRateLimited)
		var e *pnw.Error
		require.ErrorAs(t, err, &e)
		require.True(t, e.Reset.After(time.Now()))
		require.Equal(t, 1, b.fake.Requests(), "no request until the reset")

		// Other keys are unaffected.
		_, err = c.Alliance(t.Context(), allianceID)
		require.NoError(t, err)
	})

	t.Run("429 at the daily limit", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		b.fake.SetKeyLimit(memberKey, 2000, 2000)
		_, err := c.Me(t.Context(), memberKey)
		require.ErrorIs(t, err, pnw.ErrRateLimited)
		_, err = c.Me(t.Context(), memberKey)
		require.ErrorIs(t, err, pnw.ErrRateLimited)
		require.Equal(t, 1, b.fake.Requests())
	})
}

// openBreaker fails five requests with a 503, which opens c's breaker;
// none of them is marked not sent.
func openBreaker(t *testing.T, c *pnw.Client, b *testBundle) {
	t.Helper()
	b.fake.Fail(fakepnw.Failure{Status: 503})
	for range 5 {
		_, err := c.Alliance(t.Context(), allianceID)
		require.ErrorIs(t, err, pnw.ErrGameDown)
		require.False(t, pnw.NotSent(err), "a 503 came from the game")
	}
}

func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	c, b := setup(t, withoutCache)
	openBreaker(t, c, b)
	require.Equal(t, 5, b.fake.Requests())
	_, err := c.Nation(t.Context(), officerID)
	require.ErrorIs(t, err, pnw.ErrGameDown)
	require.Contains(t, err.Error(), "circuit open")
	require.Equal(t, 5, b.fake.Requests(), "open: no request")
}

// TestBreakerCountsGameDownOnly: the game's own answers (a refused key)
// are no outage, however many in a row: the breaker stays closed.
func TestBreakerCountsGameDownOnly(t *testing.T) {
	t.Parallel()
	c, b := setup(t, withoutCache)
	b.fake.Fail(fakepnw.Failure{Status: 401})
	for range 6 {
		_, err := c.Alliance(t.Context(), allianceID)
		require.ErrorIs(t, err, pnw.ErrInvalidKey)
	}
	b.fake.Fail(fakepnw.Failure{})
	_, err := c.Alliance(t.Context(), allianceID)
	require.NoError(t, err)
	require.Equal(t, 7, b.fake.Requests(), "every request reached the game")
}

func TestStaleDataWhenTheGameIsDown(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]func(*pnw.Options, *testBundle){"redis": func(*pnw.Options, *testBundle) {}, "postgres": withPostgresCache} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var cache pnw.Cache
			c, b := setup(t, opt, func(o *pnw.Options, _ *testBundle) { cache = o.Cache })
			fresh, err := c.Nation(t.Context(), officerID)
			require.NoError(t, err)

			// Age the entry past its TTL, as if fetched ten minutes ago.
			const key = "pnw:v2:nation:100"
			e, ok, err := cache.Get(t.Context(), key)
			require.NoError(t, err)
			require.True(t, ok)
			e.FetchedAt, e.FreshUntil = time.Now().Add(-10*time.Minute), time.Now().Add(-5*time.Minute)
			require.NoError(t, cache.Set(t.Context(), key, e, []string{"nation:100"}, time.Hour))

			b.fake.Fail(fakepnw.Failure{Status: 500})
			stale, err := c.Nation(t.Context(), officerID)
			require.NoError(t, err)
			require.True(t, stale.Stale)
			require.Equal(t, fresh.Data, stale.Data)
			require.GreaterOrEqual(t, stale.Age(), 10*time.Minute)

			// A key error is not papered over with stale data.
			b.fake.Fail(fakepnw.Failure{Status: 401})
			_, err = c.Nation(t.Context(), officerID)
			require.ErrorIs(t, err, pnw.ErrInvalidKey)

			b.fake.Fail(fakepnw.Failure{})
			refreshed, err := c.Nation(t.Context(), officerID)
			require.NoError(t, err)
			require.False(t, refreshed.Stale)
			require.Less(t, refreshed.Age(), time.Minute)
		})
	}
}

// TestNoRedirects: the key rides in the URL, so a redirect elsewhere is not
// followed: the other host never sees it.
func TestNoRedirects(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()

	c, err := pnw.New(pnw.Options{URL: redirect.URL + "/graphql", APIKey: botKey})
	require.NoError(t, err)
	defer c.Close(t.Context()) //nolint:errcheck
	_, err = c.Alliance(t.Context(), allianceID)
	require.Error(t, err)
	require.NotContains(t, err.Error(), botKey)
	require.Zero(t, elsewhere.Load())
}

// TestNotSent: a failure that certainly sent nothing is marked so (a
// withdrawal that fails so was not executed); one after the request left is
// not.
func TestNotSent(t *testing.T) {
	t.Parallel()
	w := pnw.Withdrawal{ReceiverID: memberID, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: 1}}

	t.Run("breaker open", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		openBreaker(t, c, b)
		_, err := c.BankWithdraw(t.Context(), officerKey, w)
		require.ErrorIs(t, err, pnw.ErrGameDown)
		require.True(t, pnw.NotSent(err), "%v", err)
		require.Zero(t, b.fake.RequestsFor("bankWithdraw"))
	})

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.URL = "http://127.0.0.1:1/graphql" })
		_, err := c.BankWithdraw(t.Context(), officerKey, w)
		require.ErrorIs(t, err, pnw.ErrGameDown)
		require.True(t, pnw.NotSent(err), "%v", err)
	})

	t.Run("NaN amount", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		_, err := c.BankWithdraw(t.Context(), officerKey, pnw.Withdrawal{ReceiverID: memberID, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: math.NaN()}})
		require.True(t, pnw.NotSent(err), "%v", err)
		require.Zero(t, b.fake.Requests())
	})

	t.Run("timeout after sending", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.Timeout = 50 * time.Millisecond })
		release := b.fake.Hold()
		defer release()
		_, err := c.BankWithdraw(t.Context(), officerKey, w)
		require.ErrorIs(t, err, pnw.ErrGameDown)
		require.False(t, pnw.NotSent(err), "it may have been executed")
	})
}

// TestNotExecuted: a mutation's failure is "not executed" only when it is
// proven to come before the game ran anything; every other answer leaves
// the outcome unknown, never "failed, run it again".
func TestNotExecuted(t *testing.T) {
	t.Parallel()
	w := pnw.Withdrawal{ReceiverID: memberID, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: 1}}
	cases := []struct {
		name    string
		failure fakepnw.Failure
		w       pnw.Withdrawal
		refused bool
	}{
		{"401", fakepnw.Failure{Status: 401}, w, true},
		{"403", fakepnw.Failure{Status: 403}, w, true},
		{"429 past the wait", fakepnw.Failure{Status: 429, Reset: time.Now().Add(time.Hour)}, w, true},
		{"key error", fakepnw.Failure{Message: "The API key you provided is invalid or has been revoked."}, w, true},
		{"missing permission", fakepnw.Failure{Message: "This API key does not have the alliance_withdraw_bank permission."}, w, true},
		{"rate limit wording", fakepnw.Failure{Message: "Too many requests."}, w, true},
		{"GraphQL validation", fakepnw.Failure{Message: `Variable "$receiver" got invalid value.`, Category: "graphql"}, w, true},
		{"argument validation", fakepnw.Failure{Message: "The money field must be at least 0.", Category: "validation"}, w, true},
		{"game refuses: the bank lacks it", fakepnw.Failure{}, pnw.Withdrawal{ReceiverID: memberID, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: 5e9}}, true},
		{"game refuses: no such receiver", fakepnw.Failure{}, pnw.Withdrawal{ReceiverID: 999999, ReceiverType: pnw.ReceiverNation, Amounts: pnw.Amounts{pnw.Money: 1}}, true},

		{"unknown wording", fakepnw.Failure{Message: "Something went wrong."}, w, false},
		{"unknown wording, internal", fakepnw.Failure{Message: "Whoops.", Category: "internal"}, w, false},
		{"permission wording below the mutation", fakepnw.Failure{Message: "Not authorized to see this field.", Path: []any{"bankWithdraw", "receiver"}}, w, false},
		{"302", fakepnw.Failure{Status: 302}, w, false},
		{"400", fakepnw.Failure{Status: 400}, w, false},
		{"404", fakepnw.Failure{Status: 404}, w, false},
		{"422 with a message", fakepnw.Failure{Status: 422, Message: "Unprocessable."}, w, false},
		{"500", fakepnw.Failure{Status: 500}, w, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, withoutCache)
			if tc.failure.Status != 0 || tc.failure.Message != "" {
				tc.failure.Times = 1
				b.fake.Fail(tc.failure)
			}
			_, err := c.BankWithdraw(t.Context(), officerKey, tc.w)
			require.Error(t, err)
			require.Equal(t, tc.refused, pnw.NotExecuted(err), "%v", err)
			require.Equal(t, 1_000_000.0, b.fake.Alliance(allianceID).Bank[pnw.Money])
		})
	}

	t.Run("never left", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache)
		openBreaker(t, c, b)
		_, err := c.BankWithdraw(t.Context(), officerKey, w)
		require.True(t, pnw.NotExecuted(err), "breaker open: %v", err)
		c, _ = setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.URL = "http://127.0.0.1:1/graphql" })
		_, err = c.BankWithdraw(t.Context(), officerKey, w)
		require.True(t, pnw.NotExecuted(err), "connection refused: %v", err)
	})

	t.Run("timeout after sending", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.Timeout = 50 * time.Millisecond })
		release := b.fake.Hold()
		defer release()
		_, err := c.BankWithdraw(t.Context(), officerKey, w)
		require.False(t, pnw.NotExecuted(err))
	})
}
