package pnw_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
)

// TestKeysNeverLeak drives a transport error, an HTTP error and a GraphQL
// error whose message echoes the key, plus successful private reads, then
// searches every error, log line, cache key and entry, usage row and metric
// for a key.
func TestKeysNeverLeak(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]func(*pnw.Options, *testBundle){"redis": func(*pnw.Options, *testBundle) {}, "postgres": withPostgresCache} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, opt)
			var errs []error

			// Successful private and public reads fill the cache.
			_, err := c.AllianceBank(t.Context(), officerKey, allianceID)
			require.NoError(t, err)
			_, err = c.Nation(t.Context(), officerID)
			require.NoError(t, err)
			_, err = c.Me(t.Context(), officerKey)
			require.NoError(t, err)

			// A GraphQL error that quotes the key.
			b.fake.Fail(fakepnw.Failure{Message: "Invalid API key " + memberKey + " supplied.", Times: 1})
			_, err = c.AllianceBank(t.Context(), memberKey, allianceID)
			require.ErrorIs(t, err, pnw.ErrInvalidKey)
			errs = append(errs, err)

			// HTTP errors whose bodies quote the key.
			b.fake.Fail(fakepnw.Failure{Status: 500, Message: officerKey, Times: 1})
			_, err = c.AllianceBankRecords(t.Context(), officerKey, allianceID, 0)
			require.ErrorIs(t, err, pnw.ErrGameDown)
			errs = append(errs, err)
			b.fake.Fail(fakepnw.Failure{Status: 401, Message: "Unknown key " + outsideKey, Times: 1})
			_, err = c.Me(t.Context(), outsideKey)
			require.ErrorIs(t, err, pnw.ErrInvalidKey)
			errs = append(errs, err)

			// Transport errors: *url.Error carries the URL with ?api_key=.
			down, db := setup(t, opt, func(o *pnw.Options, _ *testBundle) { o.URL = closedURL })
			_, err = down.AllianceTrades(t.Context(), officerKey, allianceID, 0)
			require.ErrorIs(t, err, pnw.ErrGameDown)
			require.Contains(t, err.Error(), "connection refused")
			errs = append(errs, err)
			_, err = down.Me(t.Context(), memberKey)
			require.ErrorIs(t, err, pnw.ErrGameDown)
			errs = append(errs, err)

			for _, err := range errs {
				requireNoKey(t, "error", err.Error())
			}
			closeClient(t, c)
			closeClient(t, down)
			for _, bb := range []*testBundle{b, db} {
				logs := bb.logs.String()
				require.Contains(t, logs, "pnw request failed", "the errors were logged")
				requireNoKey(t, "log", logs)
				requireNoKey(t, "cache", dumpCache(t, bb))
				requireNoKey(t, "usage log", dumpTable(t, bb, "api_usage_logs"))
				requireNoKey(t, "metrics", dumpMetrics(t, bb))
			}
			require.Contains(t, dumpCache(t, b), "nation:100", "the dump sees the cache")
		})
	}
}

// dumpCache renders every cache key and value in Redis and PostgreSQL.
func dumpCache(t testing.TB, b *testBundle) string {
	t.Helper()
	var sb strings.Builder
	keys, err := b.rdb.Keys(t.Context(), b.prefix+"*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		sb.WriteString(k + "\n")
		if typ, _ := b.rdb.Type(t.Context(), k).Result(); typ == "set" {
			members, err := b.rdb.SMembers(t.Context(), k).Result()
			require.NoError(t, err)
			sb.WriteString(strings.Join(members, " ") + "\n")
			continue
		}
		v, err := b.rdb.Get(t.Context(), k).Result()
		require.NoError(t, err)
		sb.WriteString(v + "\n")
	}
	sb.WriteString(dumpTable(t, b, "pnw_data_cache"))
	return sb.String()
}

func dumpTable(t testing.TB, b *testBundle, table string) string {
	t.Helper()
	var dump string
	require.NoError(t, b.db.Pool.QueryRow(t.Context(), "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM "+table+" t").Scan(&dump))
	return dump
}

func dumpMetrics(t testing.TB, b *testBundle) string {
	t.Helper()
	families, err := b.reg.Gather()
	require.NoError(t, err)
	var sb strings.Builder
	for _, f := range families {
		sb.WriteString(f.String() + "\n")
	}
	return sb.String()
}

// TestLongErrorMessages: the game's message is redacted before it is cut, so
// a key across the cut never shows in part, and the cut keeps whole runes.
func TestLongErrorMessages(t *testing.T) {
	t.Parallel()
	for name, msg := range map[string]string{
		"key across the cut":  "a" + strings.Repeat("é", 145) + memberKey + " was refused.",
		"rune across the cut": "a" + strings.Repeat("é", 200),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, withoutCache)
			b.fake.Fail(fakepnw.Failure{Message: msg, Times: 1})
			_, err := c.AllianceBank(t.Context(), memberKey, allianceID)
			var e *pnw.Error
			require.ErrorAs(t, err, &e)
			require.NotContains(t, err.Error(), memberKey[:8])
			require.True(t, utf8.ValidString(e.Message), "%q", e.Message)
			require.LessOrEqual(t, utf8.RuneCountInString(e.Message), 301)
		})
	}
}

// TestNullGraphQLError: "errors":[null] is an error like any other.
func TestNullGraphQLError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":null,"errors":[null]}`))
	}))
	t.Cleanup(srv.Close)
	c, _ := setup(t, withoutCache, func(o *pnw.Options, _ *testBundle) { o.URL = srv.URL + "/graphql" })
	_, err := c.Alliance(t.Context(), allianceID)
	require.ErrorIs(t, err, pnw.ErrInvalidQuery)
}
