package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"pnwbot/config"
	"pnwbot/store/storetest"
)

// chromium is Debian's, which scripts/test.sh installs.
const chromium = "/usr/bin/chromium"

// headless starts Debian's Chromium, headless, for the test; it stops with
// the test.
func headless(t *testing.T, ctx context.Context, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("this test needs Chromium at %s (apt-get install chromium; scripts/test.sh does it)", chromium)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}, opts...)...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	return browser
}

// TestDemoInABrowser runs `pnwbot demo` and walks its first hour in
// headless Chromium as a newcomer would, as tess, the leader of Rose: /link
// with a fixture key, /me, /nation completing a name as it is typed, then
// every step of the side bar's checklist (the alliance key through the
// button of a direct message and its form), each ticking itself; then each
// page of the dashboard, signed in through the fake Discord. Every page
// fits a desktop and a 375 px phone, with no console error.
// PNWBOT_SCREENSHOTS=dir saves the demo's pages as PNGs there, at both
// widths (the README's).
func TestDemoInABrowser(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	env := map[string]string{config.HTTPAddr: "127.0.0.1:0", config.LogLevel: "warn"}
	a, stopFakes, err := startDemo(ctx, func(name string) string { return env[name] }, storetest.NewEmptyDB(t))
	require.NoError(t, err)
	defer stopFakes()
	runCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.serve(runCtx) }()
	defer func() {
		stop()
		require.NoError(t, <-served)
	}()

	browser := headless(t, ctx, chromedp.WindowSize(desktopWidth, 900))
	problems := consoleErrors(t, browser)
	base := localURL(a.listener.Addr())
	b := demoBrowser{t: t, ctx: browser}

	// The member slice: /link, /me, /nation with autocomplete.
	b.do(chromedp.Navigate(base + "/demo"))
	b.command("/link")
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] input[name="api_key"]`)),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="api_key"]`), "demoTestonia0000"),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
	)
	b.reply(1, "Linked to Testonia")
	b.done("link")
	b.send("/me")
	me := b.reply(2, "Testonia, led by Tess")
	require.Contains(t, me, "tess used /me")
	b.do(chromedp.WaitVisible(chromedp.CSS("#messages article:nth-of-type(2).private")))
	b.command("/nation")
	b.do(
		chromedp.SendKeys(nationOption, "Ali"),
		chromedp.WaitVisible(chromedp.CSS("#suggestions div")),
		chromedp.SendKeys(nationOption, kb.Enter), // picks the choice
		chromedp.SendKeys(nationOption, kb.Enter), // sends
	)
	require.Contains(t, b.reply(3, "Aliceland"), "tess used /nation")

	// The leader's first hour.
	b.send("/alliance setup")
	b.reply(4, "Rose is set up in this server")
	b.done("setup")
	b.send("/alliance key")
	b.reply(5, "I sent you a direct message")
	// The DM arrives in tess's DM pane, with a badge while it is not shown.
	b.do(chromedp.WaitVisible(chromedp.CSS(`button[data-pane="dm-` + demoTess + `"] .badge`)))
	badge, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(`button[data-pane="dm-`+demoTess+`"] .badge`)))
	require.NoError(t, err)
	require.Equal(t, "1", badge)
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="dm-` + demoTess + `"]`)))
	dm := "#dm-" + demoTess
	b.wait(dm+" article:nth-of-type(1)", "To link your alliance key for Rose")
	b.do(chromedp.WaitNotVisible(chromedp.CSS(`button[data-pane="dm-` + demoTess + `"] .badge`)))
	b.screenshot("demo-dm")
	b.do(
		chromedp.Click(chromedp.CSS(dm+` button[data-custom-id]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] input[name="api_key"]`)),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="api_key"]`), "demoTestonia0000"),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
	)
	b.wait(dm+" article:nth-of-type(2)", "Your alliance key for Rose is linked")
	b.done("key")
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="messages"]`)), chromedp.WaitVisible(chromedp.CSS("#composer")))

	b.send("/alliance members")
	b.reply(6, "Members of Rose")
	b.done("members")
	b.send("/alliance bank")
	b.reply(7, "Bank of Rose")
	b.done("bank")
	b.command("/alliance withdraw")
	recipient := chromedp.CSS(`#options input[name="recipient"]`)
	b.do(
		chromedp.SendKeys(recipient, "Alice"),
		chromedp.WaitVisible(chromedp.CSS("#suggestions div")),
		chromedp.SendKeys(recipient, kb.Enter),
		chromedp.SendKeys(chromedp.CSS(`#options input[name="money"]`), "1000000"),
		chromedp.SendKeys(chromedp.CSS(`#options input[name="money"]`), kb.Enter),
	)
	b.reply(8, "Send this from the bank of Rose")
	b.do(chromedp.Click(chromedp.CSS(`#messages article:nth-of-type(8) button.danger`)))
	sent := b.reply(8, "sent")
	require.Contains(t, sent, "Aliceland")
	require.Contains(t, sent, "1,000,000")
	b.done("withdraw")
	b.command("/alliance roles")
	b.do(
		chromedp.SetValue(chromedp.CSS(`#options select[name="member-role"]`), demoRoleMember),
		chromedp.SetValue(chromedp.CSS(`#options select[name="officer-role"]`), demoRoleOfficer),
	)
	b.enter()
	require.Contains(t, b.reply(9, "Stored: linked members of Rose"), "@Rose government")
	b.done("roles")
	b.send("/alliance sync")
	b.reply(10, "Given: 3") // tess's two roles, and bob's, who linked before the demo began
	b.done("sync")
	b.command("/alliance settings")
	b.do(
		chromedp.SetValue(chromedp.CSS(`#options select[name="public"]`), "true"),
	)
	b.enter()
	b.reply(11, "/a/rose")
	b.fits("demo")

	// The world moves: Arrgh declares war, and the alert arrives in the
	// channel Rose chose.
	b.command("/war alerts channel")
	b.do(
		chromedp.SetValue(chromedp.CSS(`#options select[name="channel"]`), demoWarAlerts),
		chromedp.SetValue(chromedp.CSS(`#options select[name="kind"]`), "defensive"),
	)
	b.enter()
	b.reply(12, "Defensive alerts of Rose now go to #war-alerts")
	b.do(chromedp.Click(chromedp.CSS(`button[data-event="war"]`)))
	b.do(chromedp.WaitVisible(chromedp.CSS(`button[data-pane="ch-` + demoWarAlerts + `"] .badge`)))
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="ch-` + demoWarAlerts + `"]`)))
	alert := b.wait("#ch-"+demoWarAlerts+" article:nth-of-type(1)", "Skullport")
	require.Contains(t, alert, "Testonia")
	// Its War room button opens a thread, which the side bar lists under
	// the channel.
	warAlerts := "#ch-" + demoWarAlerts
	b.do(chromedp.Click(chromedp.CSS(warAlerts + ` article:nth-of-type(1) button[data-custom-id^="war/room/"]`)))
	b.wait(warAlerts+" article:nth-of-type(2)", "The war room is now open: #vs Skullport")
	b.do(chromedp.Click(chromedp.CSS(`.channels li:nth-child(3) button`)))
	b.wait("#place", "# vs Skullport")
	b.wait(".pane:not([hidden]) article:nth-of-type(1)", "War room: Skullport")
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="ch-` + demoWarAlerts + `"]`)))
	b.fits("demo-war")

	// bob goes inactive: /audit run says so, and the daily report arrives
	// in #audits.
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="messages"]`)), chromedp.Click(chromedp.CSS(`button[data-event="inactive"]`)))
	b.command("/audit rules set")
	b.do(chromedp.SetValue(chromedp.CSS(`#options select[name="kind"]`), "inactive"))
	b.enter()
	b.reply(13, "inactive")
	b.send("/audit run")
	require.Contains(t, b.reply(14, "Bobistan"), "8 days")
	b.command("/audit channel")
	b.do(chromedp.SetValue(chromedp.CSS(`#options select[name="channel"]`), demoAudits))
	b.enter()
	b.reply(15, "#audits")
	b.do(chromedp.WaitVisible(chromedp.CSS(`button[data-pane="ch-` + demoAudits + `"] .badge`)))
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="ch-` + demoAudits + `"]`)))
	b.wait("#ch-"+demoAudits+" article:nth-of-type(1)", "Bobistan")
	b.fits("demo-audit")
	// bob, linked, is reminded in his DMs (opening them acts as bob).
	b.do(chromedp.WaitVisible(chromedp.CSS(`button[data-pane="dm-` + demoBob + `"] .badge`)))
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="dm-` + demoBob + `"]`)))
	b.wait("#dm-"+demoBob+" article:nth-of-type(1)", "Bobistan fails")
	b.do(chromedp.SetValue(chromedp.CSS("#user"), demoTess))

	// alice deposits with #deposit: the ledger credits her.
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="messages"]`)), chromedp.Click(chromedp.CSS(`button[data-event="deposit"]`)))
	n := b.balance(16, "5,000,000")

	// tess chooses the bank channel; bob asks the bankers there.
	b.command("/bank channel")
	b.do(chromedp.SetValue(chromedp.CSS(`#options select[name="channel"]`), demoBankRequests))
	b.enter()
	b.reply(n+1, "#bank-requests")
	b.do(chromedp.SetValue(chromedp.CSS("#user"), demoBob))
	b.command("/bank request")
	b.do(
		chromedp.SetValue(chromedp.CSS(`#options select[name="kind"]`), "grant"),
		chromedp.SendKeys(chromedp.CSS(`#options input[name="reason"]`), "new city"),
		chromedp.SendKeys(chromedp.CSS(`#options input[name="money"]`), "5000000"),
	)
	b.enter()
	b.reply(n+2, "is posted in #bank-requests")
	b.do(chromedp.WaitVisible(chromedp.CSS(`button[data-pane="ch-` + demoBankRequests + `"] .badge`)))
	b.do(chromedp.Click(chromedp.CSS(`button[data-pane="ch-` + demoBankRequests + `"]`)))
	request := b.wait("#ch-"+demoBankRequests+" article:nth-of-type(1)", "new city")
	require.Contains(t, request, "Approve")
	b.do(chromedp.SetValue(chromedp.CSS("#user"), demoTess))

	// The dashboard, from the side bar's links, signed in as tess.
	for _, page := range []struct{ to, name, want string }{
		{"alliance", "demo-alliance", "Aliceland"},
		{"audit", "demo-alliance-audit", "Bobistan"},
		{"me", "demo-me", "Testonia, led by Tess"},
		{"admin", "demo-admin", "Game API usage"},
		{"public", "demo-public", "Top members by score"},
	} {
		b.do(chromedp.Navigate(base + "/demo"))
		href, err := chromedp.Run(browser, chromedp.AttributeValue(chromedp.CSS(`a[data-to="`+page.to+`"]`), "href"))
		require.NoError(t, err)
		require.True(t, href.Exists)
		b.do(chromedp.Navigate(base+href.Value), chromedp.WaitVisible(chromedp.CSS("main")))
		b.wait("main", page.want)
		b.fits(page.name)
	}
	b.do(chromedp.Navigate(base + "/demo"))
	b.done("dashboard")
	for _, s := range []string{"link", "setup", "key", "members", "bank", "withdraw", "roles", "sync", "dashboard"} {
		b.done(s)
	}
	problems.none()
}

// The demo's users and roles the test picks (web/demo/world.go).
const (
	demoTess         = "200000000000000001"
	demoBob          = "200000000000000003"
	demoWarAlerts    = "600000000000000001"
	demoAudits       = "600000000000000002"
	demoBankRequests = "600000000000000003"
	demoRoleMember   = "400000000000000002"
	demoRoleOfficer  = "400000000000000003"
)

const (
	desktopWidth = 1280
	phoneWidth   = 375
)

var nationOption = chromedp.CSS(`#options input[name="nation"]`)

// demoBrowser drives the demo page as a user would.
type demoBrowser struct {
	t   *testing.T
	ctx context.Context
}

func (b demoBrowser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, actions...))
}

// command types a command in the composer, clicked first as a user would
// (Chromium loses the keyboard focus to a closed modal's button): Enter
// picks the suggestion, which sends a command without options.
func (b demoBrowser) command(text string) {
	b.t.Helper()
	b.do(
		chromedp.Click(chromedp.CSS("#command")),
		chromedp.SendKeys(chromedp.CSS("#command"), text),
		chromedp.WaitVisible(chromedp.CSS("#suggestions div")),
		chromedp.SendKeys(chromedp.CSS("#command"), kb.Enter),
	)
}

// enter sends the command whose options are shown.
func (b demoBrowser) enter() {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.CSS("#command"), kb.Enter))
}

// balance asks /bank balance for Aliceland until the nth message (the
// first answer, then each retry's) shows want, and returns the number of
// the message that did: the ledger takes a deposit from the game's stream
// within seconds once its first pass (each minute in the demo) has read
// the alliance's records.
func (b demoBrowser) balance(n int, want string) int {
	b.t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; n++ {
		b.command("/bank balance")
		b.do(
			chromedp.SendKeys(nationOption, "Aliceland"),
			chromedp.WaitVisible(chromedp.CSS("#suggestions div")),
			chromedp.SendKeys(nationOption, kb.Enter),
		)
		b.enter()
		text := b.reply(n, "Aliceland")
		if strings.Contains(text, want) {
			return n
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("/bank balance never showed %s; last:\n%s", want, text)
		}
		time.Sleep(5 * time.Second)
	}
}

// send sends a command, its options (if any) left empty.
func (b demoBrowser) send(text string) {
	b.t.Helper()
	b.command(text)
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int]("document.querySelectorAll('#options label').length"))
	require.NoError(b.t, err)
	if n > 0 {
		b.enter()
	}
}

// wait waits until the element sel shows want, and returns its text.
func (b demoBrowser) wait(sel, want string) string {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.PollFunction[bool](
		`(sel, want) => (document.querySelector(sel)?.innerText || '').includes(want)`,
		chromedp.WithPollingArgs(sel, want), chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		shown, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		b.t.Fatalf("%s never showed %q: %v; the page shows:\n%s", sel, want, err, shown)
	}
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err)
	return text
}

// reply waits for the bot's nth message in #general to show want.
func (b demoBrowser) reply(n int, want string) string {
	b.t.Helper()
	return b.wait(fmt.Sprintf("#messages article:nth-of-type(%d)", n), want)
}

// done waits for the checklist's step to tick itself.
func (b demoBrowser) done(step string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#checklist li.done[data-step="`+step+`"]`))),
		"step %s never ticked", step)
}

// fits checks that the page is no wider than a desktop window and than a
// phone's screen, and saves screenshots of both as name.png and
// name-phone.png when PNWBOT_SCREENSHOTS names a directory.
func (b demoBrowser) fits(name string) {
	b.t.Helper()
	for _, width := range []int64{desktopWidth, phoneWidth} {
		suffix := ""
		emulate := chromedp.EmulateViewport(width, 900)
		if width == phoneWidth {
			suffix, emulate = "-phone", chromedp.EmulateViewport(width, 812, chromedp.EmulateMobile)
		}
		b.do(emulate)
		scroll, err := chromedp.Run(b.ctx, chromedp.Evaluate[int64]("document.documentElement.scrollWidth"))
		require.NoError(b.t, err)
		require.LessOrEqual(b.t, scroll, width, "%s is wider than a %d px screen", name, width)
		b.screenshot(name + suffix)
	}
	b.do(chromedp.EmulateReset())
}

func (b demoBrowser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("PNWBOT_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// consoleLog collects what a page writes to its console as errors.
type consoleLog struct {
	t      *testing.T
	mu     sync.Mutex
	errors []string
}

// consoleErrors starts collecting the browser's console errors and
// uncaught exceptions.
func consoleErrors(t *testing.T, browser context.Context) *consoleLog {
	c := &consoleLog{t: t}
	messages := chromedp.Console(browser)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				c.mu.Lock()
				c.errors = append(c.errors, m.String()+" ("+m.URL+")")
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// none fails the test when the page wrote an error.
func (c *consoleLog) none() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Empty(c.t, c.errors, "console errors")
}
