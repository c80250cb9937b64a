package site_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/store"
)

// makeAdmin signs u in and gives them a system_admins row.
func (b *bundle) makeAdmin(t *testing.T, u *discordgo.User, level, overrides string) *http.Client {
	t.Helper()
	c := b.browser(t)
	b.signIn(t, c, u)
	if level != "" {
		row, err := b.st.UserGetByDiscordID(t.Context(), u.ID)
		require.NoError(t, err)
		_, err = b.st.SystemAdminUpsert(t.Context(), store.SystemAdminUpsertParams{UserID: row.ID, Level: level, Permissions: []byte(overrides)})
		require.NoError(t, err)
	}
	return c
}

func TestAdminPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.linkTess(t, true)
	_, err := b.st.APIUsageLogInsertBatch(t.Context(), []store.APIUsageLogInsertBatchParams{
		{Endpoint: "nation", StatusCode: 200, ResponseTimeMs: 120, CreatedAt: time.Now()},
		{Endpoint: "nation", StatusCode: 200, CacheHit: true, CreatedAt: time.Now()},
		{Endpoint: "alliance", StatusCode: 200, ResponseTimeMs: 90, CreatedAt: time.Now().AddDate(0, 0, -2)},
	})
	require.NoError(t, err)
	_, err = b.st.AppConfigSet(t.Context(), store.AppConfigSetParams{Key: "cache.ttl.nation", Value: "300", Category: "cache", DataType: "number"})
	require.NoError(t, err)

	sections := []string{"Game API usage", "Users", "Alliances", "Audit log", "Configuration"}
	for _, c := range []struct {
		name, id, level, overrides string
		sees                       []string
	}{
		{"SuperAdmin", "310000000000000001", "super_admin", `{}`, sections},
		{"Admin", "310000000000000002", "admin", `{}`, sections},
		{"AdminWithoutSystem", "310000000000000003", "admin", `{"canManageSystem": false, "canViewAuditLogs": false}`, []string{"Users", "Alliances"}},
		{"OnlyAudit", "310000000000000004", "admin", `{"canManageSystem": false, "canManageUsers": false, "canManageAlliances": false}`, []string{"Audit log"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := &discordgo.User{ID: c.id, Username: c.name}
			a := do(t, b.makeAdmin(t, u, c.level, c.overrides), http.MethodGet, b.url+"/admin", nil)
			require.Equal(t, http.StatusOK, a.status, a.body)
			for _, s := range sections {
				if slices.Contains(c.sees, s) {
					require.Contains(t, a.body, "<h2>"+s, s)
				} else {
					require.NotContains(t, a.body, "<h2>"+s, s)
				}
			}
		})
	}

	t.Run("NotAnAdmin", func(t *testing.T) {
		a := do(t, b.makeAdmin(t, bob, "", ""), http.MethodGet, b.url+"/admin", nil)
		require.Equal(t, http.StatusForbidden, a.status)
		rows := b.audits(t, "permission.denied")
		require.NotEmpty(t, rows)
		require.JSONEq(t, `{"route":"/admin","missing":"system admin"}`, string(rows[len(rows)-1].NewValues))
	})

	t.Run("WhatItShows", func(t *testing.T) {
		c := b.makeAdmin(t, &discordgo.User{ID: "320000000000000001", Username: "root"}, "super_admin", `{}`)
		a := do(t, c, http.MethodGet, b.url+"/admin", nil)
		require.Contains(t, a.body, "2 requests sent to the game, 1 answered from the cache")
		require.Contains(t, a.body, "<svg")
		require.Contains(t, a.body, "cache.ttl.nation")
		require.Contains(t, a.body, `href="/alliances/rose"`)
		require.Contains(t, a.body, userTess)
		require.Contains(t, do(t, c, http.MethodGet, b.url+"/me", nil).body, `href="/admin"`)

		search := func(q url.Values) string {
			return do(t, c, http.MethodGet, b.url+"/admin?"+q.Encode(), nil).body
		}
		logins := search(url.Values{"action": {"auth.login"}, "user": {"320000000000000001"}})
		require.Contains(t, logins, "auth.login")
		require.NotContains(t, logins, "permission.denied")
		require.Contains(t, search(url.Values{"user": {"999"}}), "No pnwbot user has this Discord id.")
		require.Contains(t, search(url.Values{"since": {"yesterday"}}), "Since must be a date")
		require.Contains(t, search(url.Values{"action": {"auth.login"}, "since": {time.Now().AddDate(0, 0, 1).Format(time.DateOnly)}}), "Nothing found.")
	})
}
