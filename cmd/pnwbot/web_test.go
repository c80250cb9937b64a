package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/config"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

// TestDashboardInABrowser runs pnwbot with its web side on, against the
// fakes, and clicks through it in headless Chromium: sign in through the
// fake Discord, see /me, open the alliance page as its manager, get 403 as
// somebody else, open the public page signed out, sign out.
// PNWBOT_SCREENSHOTS=dir saves the pages as PNGs there (the README's).
func TestDashboardInABrowser(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	discord, game := newFakes(t)
	const botKey = "botkey00000000000000"
	game.AddKey(botKey, 1)
	game.AddAlliance(fakepnw.Alliance{ID: 9, Name: "Rose", Acronym: "Rose", Score: 123456.78, Rank: 4, Color: "purple",
		Bank: pnw.Amounts{pnw.Money: 12345678.9, pnw.Steel: 25000, pnw.Aluminum: 18000, pnw.Munitions: 9000, pnw.Gasoline: 7500, pnw.Food: 120000, pnw.Uranium: 800}})
	const managerKey = "tessbankkey000000000"
	game.AddKey(managerKey, 4242, "alliance_view_bank")
	game.AddNation(fakepnw.Nation{ID: 1, NationName: "Bot Nation", LeaderName: "Bot"})
	for _, n := range []fakepnw.Nation{
		{ID: 4242, NationName: "Testonia", LeaderName: "Tess", AlliancePosition: "LEADER", Score: 4210.5, NumCities: 30, Soldiers: 210000, Tanks: 18000, Aircraft: 2250, Ships: 300},
		{ID: 4243, NationName: "Aliceland", LeaderName: "Alice", AlliancePosition: "OFFICER", Score: 2500.25, NumCities: 21, Soldiers: 150000, Tanks: 12500, Aircraft: 1500, Ships: 200},
		{ID: 4244, NationName: "Carolina", LeaderName: "Carol", AlliancePosition: "MEMBER", Score: 1320, NumCities: 12, Soldiers: 60000, Tanks: 4000, Aircraft: 600, Ships: 40},
		{ID: 4245, NationName: "Daveshire", LeaderName: "Dave", AlliancePosition: "APPLICANT", Score: 410.75, NumCities: 4, Soldiers: 9000},
	} {
		n.AllianceID, n.Color = 9, "purple"
		game.AddNation(n)
	}
	game.AddNation(fakepnw.Nation{ID: 5000, NationName: "Thornwall", LeaderName: "Thorn", Score: 3900, NumCities: 27})
	game.AddWar(fakepnw.War{ID: 777, AttID: 4242, AttAllianceID: 9, DefID: 5000, WarType: "ORDINARY", TurnsLeft: 48, AttResistance: 88, DefResistance: 61})

	l, err := listen("127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	_, prefix := storetest.NewRedis(t)
	env := map[string]string{
		config.DatabaseURL: storetest.NewEmptyDB(t), config.RedisURL: storetest.RedisURL(),
		config.EncryptionKey: secrets.GenerateKey(), config.DiscordToken: fakediscord.Token, config.DiscordAPIURL: discord.URL,
		config.DiscordGuildID: fakediscord.GuildID, config.PNWAPIURL: game.URL, config.PNWAPIKey: botKey,
		config.HTTPAddr: addr, config.MetricsAddr: "127.0.0.1:0",
		config.DiscordClientSecret: fakediscord.ClientSecret, config.PublicURL: "http://" + addr,
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, runNeeds...)
	require.NoError(t, err)
	a, err := start(ctx, cfg, slog.New(slog.DiscardHandler), prefix, host{listener: l})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.serve(runCtx) }()
	defer func() {
		stop()
		require.NoError(t, <-served)
	}()
	require.Len(t, discord.RoleConnectionMetadata(), 4, "Linked Roles metadata registered at start")

	// Tess linked Testonia and set Rose up; Bob only signs in.
	tess := &discordgo.User{ID: "300000000000000001", Username: "tess"}
	bob := &discordgo.User{ID: "300000000000000002", Username: "bob"}
	seedManager(t, a.st, tess, 4242, 9)
	linkAllianceKey(t, a, tess, managerKey)

	browser := headless(t, ctx, chromedp.WindowSize(1000, 760))

	base := "http://" + addr
	shots := os.Getenv("PNWBOT_SCREENSHOTS")
	// visit opens path and returns the text of its main part.
	visit := func(path string) string {
		t.Helper()
		require.NoError(t, chromedp.Do(browser, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main"))))
		text, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("main")))
		require.NoError(t, err)
		return text
	}
	screenshot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644))
	}
	signOut := func() {
		t.Helper()
		require.NoError(t, chromedp.Do(browser,
			chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`header a[href="/login"]`)),
		))
		location, err := chromedp.Run(browser, chromedp.Location())
		require.NoError(t, err)
		require.Equal(t, base+"/", location)
	}

	home := visit("/")
	require.Contains(t, home, "Sign in with Discord")
	discord.SignIn(tess)
	require.NoError(t, chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(`main a[href="/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/me"]`)),
	))
	location, err := chromedp.Run(browser, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, base+"/me", location, "signed in, on /me")
	me, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	require.Contains(t, me, "Testonia, led by Tess")
	require.Contains(t, me, "Rose")
	require.Contains(t, me, "this one")
	screenshot("me")
	// On a phone, the page fits its width: nothing scrolls sideways but tables.
	require.NoError(t, chromedp.Do(browser, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)))
	width, err := chromedp.Run(browser, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	require.NoError(t, err)
	require.LessOrEqual(t, width, 390, "/me is wider than a phone")
	screenshot("me-phone")
	require.NoError(t, chromedp.Do(browser, chromedp.EmulateReset()))

	require.NoError(t, chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(`main a[href="/alliances/rose"]`)),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	))
	page, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	for _, want := range []string{"Members", "Testonia", "Aliceland", "Daveshire", "Bank", "$12,345,679", "25,000",
		"Active wars", "Testonia vs Thornwall", "Audit log"} {
		require.Contains(t, page, want)
	}
	screenshot("alliance")

	admin := visit("/admin")
	for _, want := range []string{"Game API usage", "Users", "Alliances", "Audit log", "auth.login", "Configuration"} {
		require.Contains(t, admin, want)
	}
	screenshot("admin")
	signOut()

	discord.SignIn(bob)
	require.Contains(t, visit("/login"), "None.", "bob manages nothing")
	forbidden := visit("/alliances/rose")
	require.Contains(t, forbidden, "Forbidden")
	require.Contains(t, forbidden, "canViewMembers")
	require.NotContains(t, forbidden, "Aliceland")
	screenshot("forbidden")
	signOut()

	public := visit("/a/rose")
	require.Contains(t, public, "Rose")
	require.Contains(t, public, "Top members by score")
	require.Contains(t, public, "Testonia")
	require.NotContains(t, public, tess.ID)
	screenshot("public")
	me = visit("/me")
	require.NotContains(t, me, "Testonia", "signed out: /me asks to sign in again")
}

// seedManager links the user's nation and makes them the admin of the
// alliance, public at /a/rose, as /link and /alliance setup would, and a
// super admin of a pnwbot that has been answering for a fortnight.
func seedManager(t *testing.T, st *store.Store, u *discordgo.User, nationID, allianceID int64) {
	t.Helper()
	ctx := t.Context()
	row, err := st.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: u.ID, DiscordUsername: u.Username, KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	_, err = st.UserLinkNation(ctx, store.UserLinkNationParams{ID: row.ID, PnwNationID: &nationID, PnwApiKey: []byte("sealed"), KeyPermissions: []byte(`{}`)})
	require.NoError(t, err)
	al, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: allianceID, Name: "Rose", Acronym: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	_, err = st.AllianceSetPublicSlug(ctx, store.AllianceSetPublicSlugParams{ID: al.ID, IsPublic: true, RouteSlug: "rose"})
	require.NoError(t, err)
	_, err = st.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: row.ID, AllianceID: al.ID, Role: "admin", Permissions: []byte(`{}`)})
	require.NoError(t, err)
	_, err = st.AuditLogInsert(ctx, store.AuditLogInsertParams{UserID: &row.ID, AllianceID: &al.ID, Action: "alliance.setup", ResourceType: "alliance", Success: true})
	require.NoError(t, err)
	_, err = st.SystemAdminUpsert(ctx, store.SystemAdminUpsertParams{UserID: row.ID, Level: "super_admin", Permissions: []byte(`{}`)})
	require.NoError(t, err)
	// A fortnight of game API calls for the usage chart.
	var usage []store.APIUsageLogInsertBatchParams
	for day := range 14 {
		for i := range 20 + (day*37)%60 {
			usage = append(usage, store.APIUsageLogInsertBatchParams{Endpoint: "nation", StatusCode: 200, ResponseTimeMs: 100,
				CacheHit: i%3 != 0, CreatedAt: time.Now().AddDate(0, 0, -day)})
		}
	}
	_, err = st.APIUsageLogInsertBatch(ctx, usage)
	require.NoError(t, err)
}

// linkAllianceKey stores key, sealed, as the user's manager key for Rose,
// as /alliance key would.
func linkAllianceKey(t *testing.T, a *app, u *discordgo.User, key string) {
	t.Helper()
	ctx := t.Context()
	row, err := a.st.UserGetByDiscordID(ctx, u.ID)
	require.NoError(t, err)
	al, err := a.st.AllianceGetBySlug(ctx, "rose")
	require.NoError(t, err)
	m, err := a.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: row.ID, AllianceID: al.ID})
	require.NoError(t, err)
	storetest.SetAllianceKey(t, a.st, a.keys, row, m, key, "alliance_view_bank")
}
