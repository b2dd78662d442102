package httpapi

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDocs_Browser opens /docs and /redoc in headless Chromium whose every
// request to another host goes to a dead proxy (as offline), and waits for
// each viewer to show Lepus's operations. Like the console's browser tests
// it needs Chromium (CI installs it) and fails without one, unless
// LEPUS_TEST_NO_BROWSER is set outside CI.
func TestDocs_Browser(t *testing.T) {
	t.Parallel()
	chromium := os.Getenv("LEPUS_TEST_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if chromium == "" {
			chromium, _ = exec.LookPath(name)
		}
	}
	if chromium == "" {
		if os.Getenv("LEPUS_TEST_NO_BROWSER") != "" && os.Getenv("CI") == "" {
			t.Skip("no Chromium, and LEPUS_TEST_NO_BROWSER is set")
		}
		t.Fatal("TestDocs_Browser needs Chromium: apt-get install -y chromium (or set LEPUS_TEST_CHROMIUM)")
	}
	b := setup(t, Deps{})

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Offline: any other host is reached through a port nobody listens on.
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.Flag("proxy-bypass-list", "127.0.0.1"),
	)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// A bound on a broken page, not a wait: the steps below end as soon as
	// the page shows what they look for.
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)

	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx) // subscribing starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			t.Logf("browser %s", m)
			// A blocked image (ReDoc's "by Redocly" logo, on a CDN) hides
			// itself; a blocked script, style or fetch breaks the page.
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") && !strings.Contains(m.Text, "img-src") {
				mu.Lock()
				problems = append(problems, m.Text)
				mu.Unlock()
			}
		}
	}()

	// One browser, one page after the other: two at once are slow on a
	// small machine.
	for _, tc := range []struct{ path, ready, want string }{
		{"/docs", ".opblock-summary-path", "/kling/face-swap"}, // Swagger UI lists the operations
		{"/redoc", "h1", "Lepus"},                              // ReDoc titles the document
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(b.srv.URL+tc.path), chromedp.WaitVisible(chromedp.CSS(tc.ready))); err != nil {
			t.Fatalf("%s did not render: %v", tc.path, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, tc.want) {
			t.Errorf("%s shows no %q", tc.path, tc.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("page: %s", p)
	}
}
