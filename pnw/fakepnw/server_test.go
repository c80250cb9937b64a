package fakepnw_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
)

type response struct {
	status int
	header http.Header
	Data   map[string]any   `json:"data"`
	Errors []map[string]any `json:"errors"`
}

func post(t *testing.T, url, key, query string, vars map[string]any) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	res, err := http.Post(url+"?api_key="+key, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	r := response{status: res.StatusCode, header: res.Header}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&r))
	return r
}

func setup(t *testing.T) *fakepnw.Server {
	f, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(f.Close)
	f.AddKey("k", 1)
	f.AddAlliance(fakepnw.Alliance{ID: 9, Name: "Nine", Bank: pnw.Amounts{pnw.Money: 5}})
	f.AddNation(fakepnw.Nation{ID: 1, NationName: "One", AllianceID: 9, LastActive: time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)})
	return f
}

func TestFakeExecutesTheSelection(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := post(t, f.URL, "k", `query q($ids: [Int]) { nations(id: $ids) { data { id name: nation_name last_active alliance { name money } } } }`, map[string]any{"ids": []int{1}})
	require.Equal(t, http.StatusOK, r.status)
	require.Empty(t, r.Errors)
	require.Equal(t, map[string]any{"nations": map[string]any{"data": []any{map[string]any{
		"id": "1", "name": "One", "last_active": "2025-05-06T07:08:09+00:00",
		"alliance": map[string]any{"name": "Nine", "money": nil}, // the bank is private
	}}}}, r.Data)
	require.Equal(t, "2000", r.header.Get("X-RateLimit-Limit"))
	require.Equal(t, "1999", r.header.Get("X-RateLimit-Remaining"))
	require.Equal(t, 1, f.RequestsFor("q"))
}

func TestFakeValidatesAgainstTheSchema(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, q := range []string{
		`{ nations { data { spice } } }`,
		`{ nations(first: "many") { data { id } } }`,
		`{ nations { data { id } }`,
		`mutation { bankWithdraw(money: 1) { id } }`,
	} {
		r := post(t, f.URL, "k", q, nil)
		require.Equal(t, http.StatusOK, r.status, q)
		require.NotEmpty(t, r.Errors, q)
		require.Nil(t, r.Data, q)
	}
	r := post(t, f.URL, "k", `{ nations(first: 501) { data { id } } }`, nil)
	require.Contains(t, r.Errors[0]["message"], "Maximum number of 500")
	require.Equal(t, 5, f.Requests())
}

func TestFakeSwitches(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const q = `{ me { requests } }`
	require.Equal(t, http.StatusUnauthorized, post(t, f.URL, "unknown", q, nil).status)

	f.Fail(fakepnw.Failure{Status: http.StatusTooManyRequests, Reset: time.Now().Add(time.Minute), Times: 1})
	r := post(t, f.URL, "k", q, nil)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Equal(t, "0", r.header.Get("X-RateLimit-Remaining"))
	require.Equal(t, http.StatusOK, post(t, f.URL, "k", q, nil).status, "Times: 1")

	f.Fail(fakepnw.Failure{Message: "Invalid API key."})
	require.Equal(t, "Invalid API key.", post(t, f.URL, "k", q, nil).Errors[0]["message"])
	f.Fail(fakepnw.Failure{})
	require.Empty(t, post(t, f.URL, "k", q, nil).Errors)

	f.SetKeyLimit("k", 10, 10)
	require.Equal(t, http.StatusTooManyRequests, post(t, f.URL, "k", q, nil).status)
}
