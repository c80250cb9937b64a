package main

import (
	"context"
	"fmt"
	"os"
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

// TestDemoInABrowser runs `pnwbot demo` and clicks through /demo in headless
// Chromium as a newcomer would: /link opens the form, a fixture key links
// Testonia, /me shows it, and /nation completes a name as it is typed.
func TestDemoInABrowser(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
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

	browser := headless(t, ctx)

	// command sends a command from the composer, clicked first as a user
	// would (Chromium loses the keyboard focus to a closed modal's button):
	// Enter picks the suggestion.
	command := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Click(chromedp.CSS("#command")),
			chromedp.SendKeys(chromedp.CSS("#command"), text),
			chromedp.WaitVisible(chromedp.CSS("#suggestions div")),
			chromedp.SendKeys(chromedp.CSS("#command"), kb.Enter),
		)
	}
	// reply waits for the bot's nth message in the transcript and returns
	// its text.
	reply := func(n int) string {
		t.Helper()
		wait, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		text, err := chromedp.Run(wait, chromedp.Text(chromedp.CSS(fmt.Sprintf("#messages article:nth-of-type(%d)", n))))
		if err != nil {
			transcript, _ := chromedp.Run(browser, chromedp.Text(chromedp.CSS("#messages")))
			t.Fatalf("message %d: %v; the page shows:\n%s", n, err, transcript)
		}
		return text
	}
	nation := chromedp.CSS(`#options input[name="nation"]`)

	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(localURL(a.listener.Addr())+"/demo"),
		command("/link"),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] input[name="api_key"]`)),
		chromedp.SendKeys(chromedp.CSS(`dialog input[name="api_key"]`), "demoTestonia0000"),
		chromedp.Click(chromedp.CSS(`dialog button[type="submit"]`)),
	))
	require.Contains(t, reply(1), "Linked to Testonia")

	require.NoError(t, chromedp.Do(browser, command("/me")))
	me := reply(2)
	require.Contains(t, me, "tess used /me")
	require.Contains(t, me, "Testonia, led by Tess")
	require.NoError(t, chromedp.Do(browser, chromedp.WaitVisible(chromedp.CSS("#messages article:nth-of-type(2).private"))), "only you can see /me")

	require.NoError(t, chromedp.Do(browser,
		command("/nation"),
		chromedp.SendKeys(nation, "Ali"),
		chromedp.WaitVisible(chromedp.CSS("#suggestions div")),
		chromedp.SendKeys(nation, kb.Enter), // picks the choice
		chromedp.SendKeys(nation, kb.Enter), // sends
	))
	card := reply(3)
	require.Contains(t, card, "tess used /nation")
	require.Contains(t, card, "Aliceland")
}
