package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lepus-ai/lepus/internal/console"
	"github.com/lepus-ai/lepus/internal/sample"
)

// The console's browser tests drive headless Chromium (Debian's chromium
// package; CI installs it) through the console of a real `lepus serve` on
// the provider sandbox, and assert on what a person sees. Without a
// browser they fail, saying how to install one, unless
// LEPUS_TEST_NO_BROWSER is set outside CI. Screenshots go to
// $LEPUS_TEST_ARTIFACTS/console (else a temporary directory; the path is
// logged); LEPUS_UPDATE_SCREENSHOTS=1 also copies the README's into
// docs/screenshots.

// browserTimeout bounds one browser test, so a broken page fails the test
// instead of hanging it. Conditions are waited on, never slept for.
const browserTimeout = 3 * time.Minute

// chromiumPath finds the browser: LEPUS_TEST_CHROMIUM, else chromium on PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LEPUS_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("LEPUS_TEST_NO_BROWSER") != "" && os.Getenv("CI") == "" {
		t.Skip("no Chromium, and LEPUS_TEST_NO_BROWSER is set: the console's browser tests do not run")
	}
	t.Fatal("the console's browser tests need Chromium: apt-get install -y chromium (or set LEPUS_TEST_CHROMIUM to a Chrome binary; " +
		"LEPUS_TEST_NO_BROWSER=1 skips these tests outside CI)")
	return ""
}

// page is one browser tab on a test's console, with what it needs to
// report: the console messages and page errors seen so far.
type page struct {
	t     *testing.T
	ctx   context.Context
	shots string

	mu       sync.Mutex
	problems []string // uncaught exceptions and CSP violations
}

// newPage starts a fresh headless Chromium (its own user data dir) with a
// w×h viewport; mobile emulates a phone.
func newPage(t *testing.T, w, h int, mobile bool) *page {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(cancelTimeout)

	p := &page{t: t, ctx: ctx, shots: artifactDir(t)}
	// Subscribing starts the browser. Every console message is logged; an
	// uncaught exception or a CSP violation fails the test.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.t.Logf("browser %s", m)
			if m.IsException() {
				p.problem("uncaught exception: " + m.String())
			}
			if strings.Contains(m.Text, "Content Security Policy") {
				p.problem("CSP violation: " + m.Text)
			}
		}
	}()
	if mobile {
		p.run("emulate a phone", chromedp.EmulateViewport(int64(w), int64(h), chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, msg := range p.problems {
			t.Errorf("page: %s", msg)
		}
	})
	return p
}

func (p *page) problem(msg string) {
	p.mu.Lock()
	p.problems = append(p.problems, msg)
	p.mu.Unlock()
}

// run runs actions; on failure it saves a screenshot of the page and fails
// the test, saying which step failed.
func (p *page) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.shot("failed-" + strings.ReplaceAll(step, " ", "-"))
		p.t.Fatalf("%s: %v", step, err)
	}
}

// shot saves a full-page screenshot as name.png among the artifacts.
func (p *page) shot(name string) string {
	p.t.Helper()
	return p.save(name, chromedp.FullScreenshot(100))
}

// shotView saves what the screen shows (the viewport) as name.png.
func (p *page) shotView(name string) string {
	p.t.Helper()
	return p.save(name, chromedp.CaptureScreenshot())
}

func (p *page) save(name string, capture chromedp.Action[[]byte]) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, capture)
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(p.shots, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Errorf("save screenshot: %v", err)
	}
	return path
}

// waitTrue polls a JavaScript expression in the page until it is true.
func (p *page) waitTrue(step, expr string) {
	p.t.Helper()
	p.run(step, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(60*time.Second)))
}

// text returns the text a person sees in the first element sel matches.
func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.shot("failed-read")
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.shot("failed-evaluate")
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// artifactDir is where a test's screenshots go.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if root := os.Getenv("LEPUS_TEST_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, "console", t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots: %s", dir)
	return dir
}

// keepForREADME copies a screenshot to docs/screenshots when
// LEPUS_UPDATE_SCREENSHOTS is set.
func keepForREADME(t *testing.T, path, name string) {
	t.Helper()
	if os.Getenv("LEPUS_UPDATE_SCREENSHOTS") == "" || path == "" {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writePortraits writes two portraits to upload from the browser.
func writePortraits(t *testing.T) (scene, face string) {
	t.Helper()
	dir := t.TempDir()
	scene, face = filepath.Join(dir, "scene.png"), filepath.Join(dir, "face.png")
	if err := os.WriteFile(scene, sample.PortraitPNG(sample.Palettes[0], 480, 600), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(face, sample.PortraitPNG(sample.Palettes[1], 400, 500), 0o644); err != nil {
		t.Fatal(err)
	}
	return scene, face
}

// signIn opens the console and uses the sandbox's developer sign-in.
func (p *page) signIn(url string) {
	p.t.Helper()
	p.run("developer sign-in",
		chromedp.Navigate(url+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#dev-signin")),
		chromedp.Click(chromedp.CSS("#dev-signin")),
		chromedp.WaitVisible(chromedp.CSS("#credits")),
		chromedp.WaitVisible(chromedp.CSS(`#workflows button[data-op="face-swap"]`)),
	)
}

// TestConsole_FaceSwapVideo: a person signs in, sees a field's error next
// to it, uploads two photos, starts a face swap with video, watches the
// progress reach 100 and sees the swapped image and a playable video; the
// gallery and the history show them too.
func TestConsole_FaceSwapVideo(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	scene, face := writePortraits(t)
	p := newPage(t, 1280, 900, false)
	p.signIn(s.url)
	if got := p.text("#credits"); got != "1000 credits" {
		t.Errorf("credits shown: %q, want 1000 credits", got)
	}

	const form = `form[data-op="face-swap"]`
	p.run("open face swap",
		chromedp.Click(chromedp.CSS(`#workflows button[data-op="face-swap"]`)),
		chromedp.WaitVisible(chromedp.CSS(form+` input[type=file][name="source_image_url"]`)),
		// Submitted empty: the server's problem+json names each field.
		chromedp.Click(chromedp.CSS(form+` button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="source_image_url"] .error`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="face_image_url"] .error`)),
	)
	if got := p.text(`[data-field="face_image_url"] .error`); !strings.Contains(got, "face_image_url") {
		t.Errorf("error next to face_image_url: %q", got)
	}
	// Defaults and enums from the schema are shown.
	resolution := eval[string](p, `document.querySelector('select[name="resolution"]').value`)
	if resolution != "1k" {
		t.Errorf("resolution preselected %q, want the schema's default 1k", resolution)
	}

	p.run("upload two photos",
		chromedp.SetUploadFiles(chromedp.CSS(form+` input[type=file][name="source_image_url"]`), []string{scene}),
		chromedp.SetUploadFiles(chromedp.CSS(form+` input[type=file][name="face_image_url"]`), []string{face}),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="source_image_url"] .preview.ok`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="face_image_url"] .preview.ok`)),
		chromedp.Click(chromedp.CSS(form+` input[name="generate_video"]`)),
	)
	p.shot("1-face-swap-form")

	p.run("submit and wait for the task to end",
		chromedp.Click(chromedp.CSS(form+` button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live .task[data-status="completed"], #live .task[data-status="failed"], #live .task[data-status="canceled"]`)),
	)
	if got := p.text("#live .task .status"); got != "completed" {
		t.Fatalf("task status shown: %q (error: %q)", got, p.text("#live .task"))
	}
	if got := p.text("#live .task .pct"); got != "100%" {
		t.Errorf("progress shown: %q, want 100%%", got)
	}
	bar := eval[float64](p, `document.querySelector('#live .task progress').value`)
	if bar != 100 {
		t.Errorf("progress bar at %v, want 100", bar)
	}
	p.waitTrue("the swapped image is displayed",
		`(() => { const i = document.querySelector('#live .task img.result-image'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	p.waitTrue("the video is playable",
		`(() => { const v = document.querySelector('#live .task video.result-video'); return !!v && (v.readyState >= 2 || v.duration > 0); })()`)
	p.waitTrue("both results can be downloaded",
		`[...document.querySelectorAll('#live .task a.download')].filter(a => a.href.startsWith('blob:')).length === 2`)
	keepForREADME(t, p.shot("2-face-swap-result"), "console-face-swap-result.png")

	// What the page shows is what the API says.
	taskID := eval[string](p, `document.querySelector('#live .task').dataset.taskId`)
	var task taskResp
	s.do(t, http.MethodGet, "/tasks/"+taskID, s.token(t, console.DevUser), nil, nil, &task)
	if task.Status != "completed" || len(task.Assets) != 2 {
		t.Fatalf("task %s in the API: %s with %d assets", taskID, task.Status, len(task.Assets))
	}
	p.waitTrue("the credits shown are the balance after the charge",
		fmt.Sprintf(`document.querySelector('#credits').textContent === '%d credits'`, 1000-task.Cost))

	p.run("gallery",
		chromedp.Click(chromedp.CSS(`#tabs a[data-tab="gallery"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#gallery figure.asset[data-kind="video"]`)),
	)
	p.waitTrue("the gallery shows the image",
		`[...document.querySelectorAll('#gallery img.result-image')].some(i => i.complete && i.naturalWidth > 0)`)
	p.run("history",
		chromedp.Click(chromedp.CSS(`#tabs a[data-tab="history"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#history li[data-task-id="%s"]`, taskID))),
	)
	if got := p.text(fmt.Sprintf(`#history li[data-task-id="%s"]`, taskID)); !strings.Contains(got, "completed") || !strings.Contains(got, "Face swap") {
		t.Errorf("history row: %q", got)
	}
}

// TestConsole_AvatarJourney: on a phone-sized screen, a person uploads
// photos, gets four portraits, chooses one, sees the three reference
// angles, and regenerates one.
func TestConsole_AvatarJourney(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	scene, face := writePortraits(t)
	p := newPage(t, 390, 844, true)
	p.signIn(s.url)

	p.run("make portraits",
		chromedp.Click(chromedp.CSS(`#tabs a[data-tab="avatars"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#avatar-new input[type=file][name="source_image_urls"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#avatar-new input[type=file][name="source_image_urls"]`), []string{scene, face}),
		chromedp.WaitVisible(chromedp.CSS(`#avatar-new [data-field="source_image_urls"] .preview.ok + .preview.ok`)),
		chromedp.Click(chromedp.CSS(`#avatar-new button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#avatar-detail[data-status="awaiting_confirmation"] .portrait`)),
	)
	p.waitTrue("four portraits are displayed",
		`(() => { const imgs = [...document.querySelectorAll('#avatar-detail .portrait img')]; return imgs.length === 4 && imgs.every(i => i.complete && i.naturalWidth > 0); })()`)
	p.shot("1-avatar-portraits")
	p.run("scroll to the portraits", chromedp.ScrollIntoView(chromedp.CSS(`#avatar-detail`)))
	keepForREADME(t, p.shotView("1-avatar-portraits-screen"), "console-avatar-portraits.png")

	p.run("choose the second portrait",
		chromedp.Click(chromedp.CSS(`#avatar-detail .portrait[data-index="1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#avatar-detail[data-status="ready"] .angle`)),
	)
	p.waitTrue("three angles are displayed",
		`(() => { const a = [...document.querySelectorAll('#avatar-detail .angle')]; return a.length === 3 && a.every(g => g.dataset.status === 'done' && g.querySelector('img').naturalWidth > 0); })()`)
	if got := p.text(`#avatar-detail .portrait[data-index="1"]`); got != "Chosen" {
		t.Errorf("chosen portrait says %q", got)
	}
	before := eval[string](p, `document.querySelector('#avatar-detail .angle[data-key="profile_right"]').dataset.taskId`)
	p.shot("2-avatar-angles")

	p.run("regenerate the profile",
		chromedp.Click(chromedp.CSS(`#avatar-detail .angle[data-key="profile_right"] button.regenerate`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#avatar-detail[data-status="ready"] .angle[data-key="profile_right"][data-status="done"]:not([data-task-id="%s"])`, before))),
	)
	p.waitTrue("the regenerated angle is displayed",
		`(() => { const i = document.querySelector('#avatar-detail .angle[data-key="profile_right"] img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	p.shot("3-avatar-regenerated")
	p.run("scroll to the angles", chromedp.ScrollIntoView(chromedp.CSS(`#avatar-detail .angles`)))
	keepForREADME(t, p.shotView("3-avatar-regenerated-screen"), "console-avatar-angles.png")

	// The API agrees: ready, portrait 1 chosen, the profile redone.
	avatarID := eval[string](p, `document.querySelector('#avatar-detail').dataset.avatarId`)
	a := s.avatar(t, s.token(t, console.DevUser), avatarID)
	if a.Status != "ready" || a.ChosenIndex == nil || *a.ChosenIndex != 1 {
		t.Fatalf("avatar in the API: %+v", a)
	}
	for _, g := range a.Angles {
		if g.Key == "profile_right" && g.TaskID == before {
			t.Errorf("profile_right still from task %s after regenerating", before)
		}
	}
	p.run("the avatar is listed", chromedp.WaitVisible(chromedp.CSS(`#avatar-list .badge.ready`)))
}

// TestConsole_DevSignIn: the sandbox's developer sign-in mints a token
// that works, only for the console's own page (Sec-Fetch-Site:
// same-origin, as browsers send it; not curl, not another site); it does
// not exist in live mode, nor when the server listens on every interface
// without LEPUS_CONSOLE_DEV_SIGNIN.
func TestConsole_DevSignIn(t *testing.T) {
	t.Parallel()
	sameOrigin := func(s *lepusServer) map[string]string {
		return map[string]string{"Origin": s.url, "Sec-Fetch-Site": "same-origin"}
	}
	t.Run("Sandbox", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, nil)
		var out struct {
			Token string
			User  string
		}
		if resp := s.do(t, http.MethodPost, "/console/dev-token", "", nil, sameOrigin(s), &out); resp.StatusCode != http.StatusOK {
			t.Fatalf("dev-token: %d", resp.StatusCode)
		}
		var credits struct{ Balance int }
		if resp := s.do(t, http.MethodGet, "/credits", out.Token, nil, nil, &credits); resp.StatusCode != http.StatusOK || credits.Balance != 1000 || out.User != console.DevUser {
			t.Fatalf("the token's user %q: credits %d, %+v", out.User, resp.StatusCode, credits)
		}
		for name, h := range map[string]map[string]string{
			"another origin": {"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"},
			"curl":           nil,
		} {
			var p problemResp
			if resp := s.do(t, http.MethodPost, "/console/dev-token", "", nil, h, &p); resp.StatusCode != http.StatusForbidden ||
				resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(p.Detail, "Sec-Fetch-Site") {
				t.Errorf("dev-token from %s: %d %+v, want 403 problem+json naming Sec-Fetch-Site", name, resp.StatusCode, p)
			}
		}
		if resp := s.do(t, http.MethodGet, "/console/dev-token", "", nil, nil, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET dev-token: %d, want 405", resp.StatusCode)
		}
	})
	t.Run("AllInterfaces", func(t *testing.T) {
		t.Parallel()
		s := startServe(t, map[string]string{"LEPUS_ADDR": "0.0.0.0:0"})
		if resp := s.do(t, http.MethodPost, "/console/dev-token", "", nil, sameOrigin(s), nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("dev-token on 0.0.0.0 without LEPUS_CONSOLE_DEV_SIGNIN: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("Live", func(t *testing.T) {
		t.Parallel()
		s, _ := startLive(t, nil, nil)
		if resp := s.do(t, http.MethodPost, "/console/dev-token", "", nil, sameOrigin(s), nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("dev-token in live mode: %d, want 404", resp.StatusCode)
		}
		// The console itself is there, without the one-click sign-in.
		if resp := s.do(t, http.MethodGet, "/console/", "", nil, nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /console/ in live mode: %d", resp.StatusCode)
		}
	})
}
