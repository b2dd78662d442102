package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// TestServe_SandboxSurvivesRestart stops `lepus serve` in sandbox mode
// (SIGTERM) while a face swap with video and an image-to-video wait on the
// sandbox's video tasks, and starts it again on the same data dir and
// addresses. The restarted sandbox still knows the tasks (and the face
// swap's image, the video's first frame): both complete, keep their full
// debit, and every external task id was submitted exactly once, before the
// restart.
func TestServe_SandboxSurvivesRestart(t *testing.T) {
	t.Parallel()
	bin := lepusBinary(t)
	dataDir := t.TempDir()
	env := append(cleanEnv(),
		// Lepus's address is fixed: the sandbox's callbacks and input
		// fetches use it. The sandbox's is the default (no SANDBOX_ADDR),
		// as a new user runs it: the restart reuses the port remembered in
		// the data dir, which the results Lepus stored point at.
		"LEPUS_ADDR="+freeAddr(t),
		"LEPUS_DATA_DIR="+dataDir,
		"LEPUS_JWT_SECRET="+testSecret,
		"LEPUS_ALLOW_PRIVATE_URLS=1",
		"LEPUS_POLL_INTERVAL=250ms", // a 15 s budget per provider step (60 polls)
		"LEPUS_QUEUE_POLL_INTERVAL=50ms",
		"LEPUS_RETRY_BASE=50ms",
		"LEPUS_SHUTDOWN_GRACE=1s",
		"SANDBOX_IMAGE_LATENCY=300ms",
		"SANDBOX_VIDEO_LATENCY=6s",
	)

	first := startProcess(t, bin, env)
	tok := first.token(t, "rita")
	sandboxAddr := rememberedSandboxAddr(t, dataDir)
	_, scene := first.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	_, face := first.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
	var swap, i2v taskResp
	first.postJSON(t, "/kling/face-swap", tok, map[string]any{
		"source_image_url": scene.URL, "face_image_url": face.URL, "generate_video": true,
	}, nil, &swap)
	first.postJSON(t, "/kling/image-to-video", tok, map[string]any{"image_url": scene.URL}, nil, &i2v)
	if swap.ID == "" || i2v.ID == "" {
		t.Fatalf("tasks not created: %+v %+v", swap, i2v)
	}
	waiting := func(tr taskResp) bool { return tr.Step == "video.wait" }
	swapWait := waitTask(t, first, tok, swap.ID, waiting)
	i2vWait := waitTask(t, first, tok, i2v.ID, waiting)
	var before struct{ Balance int }
	first.do(t, "GET", "/credits", tok, nil, nil, &before)
	if swapWait.Cost == 0 || i2vWait.Cost == 0 || before.Balance != 1000-swapWait.Cost-i2vWait.Cost {
		t.Fatalf("balance %d with costs %d and %d debited", before.Balance, swapWait.Cost, i2vWait.Cost)
	}
	subsBefore := sandboxStats(t, sandboxAddr)
	first.terminate(t)

	second := startProcess(t, bin, env)
	if again := rememberedSandboxAddr(t, dataDir); again != sandboxAddr {
		t.Fatalf("the sandbox moved from %s to %s", sandboxAddr, again)
	}
	for _, id := range []string{swap.ID, i2v.ID} {
		done := waitTask(t, second, tok, id, taskEnded)
		if done.Status != "completed" {
			t.Fatalf("task %s after restart: %+v", id, done)
		}
		for _, a := range done.Assets {
			if resp := second.do(t, "GET", strings.TrimPrefix(a.URL, second.url), tok, nil, nil, nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("task %s: download %s: %d", id, a.Kind, resp.StatusCode)
			}
		}
		if id == swap.ID && len(done.Assets) != 2 {
			t.Fatalf("face swap has %d assets, want the image and the video", len(done.Assets))
		}
	}
	var after struct{ Balance int }
	second.do(t, "GET", "/credits", tok, nil, nil, &after)
	if after.Balance != before.Balance {
		t.Fatalf("balance %d after the restart, want %d: nothing delivered may be refunded", after.Balance, before.Balance)
	}

	st := sandboxStats(t, sandboxAddr)
	if st.Attempts != 0 {
		t.Fatalf("the restarted sandbox saw %d create requests, want 0: every task was submitted before the restart", st.Attempts)
	}
	want := []string{swap.ID + "-image", swap.ID + "-video", i2v.ID + "-video"}
	for _, ext := range want {
		if subsBefore.Submissions[ext] != 1 || st.Submissions[ext] != 1 {
			t.Fatalf("external id %s: %d submissions before the restart, %d after; want 1 and 1 (all: %v)",
				ext, subsBefore.Submissions[ext], st.Submissions[ext], st.Submissions)
		}
	}
	if len(st.Submissions) != len(want) {
		t.Fatalf("submissions %v, want exactly %v", st.Submissions, want)
	}
}

// TestStartSandbox_RemembersPort checks that without SANDBOX_ADDR the
// sandbox comes back at the address it had, so the CDN URLs Lepus stored
// (a face swap's image is the first frame of its video) stay valid, and
// that it moves, with a warning, when that address is taken.
func TestStartSandbox_RemembersPort(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := func(string) string { return "" }
	logger := slog.New(slog.NewTextHandler(testLog{t}, nil))
	a, err := startSandbox(t.Context(), getenv, dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	a.stop()
	b, err := startSandbox(t.Context(), getenv, dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	if b.url != a.url {
		t.Fatalf("sandbox at %s after a restart, was %s", b.url, a.url)
	}
	if port, _ := strconv.Atoi(a.url[strings.LastIndex(a.url, ":")+1:]); port >= 32768 {
		t.Errorf("first port %d is in an ephemeral range, where a connection may hold it at the next start", port)
	}
	// b still holds the address: a third start moves elsewhere and
	// remembers that.
	c, err := startSandbox(t.Context(), getenv, dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	b.stop()
	c.stop()
	if c.url == b.url || rememberedSandboxAddr(t, dir) != strings.TrimPrefix(c.url, "http://") {
		t.Fatalf("with %s taken the sandbox went to %s and remembered %s", b.url, c.url, rememberedSandboxAddr(t, dir))
	}
}

// rememberedSandboxAddr is where serve's sandbox listens, as it keeps it
// in the data dir.
func rememberedSandboxAddr(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "sandbox", "addr"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func sandboxStats(t *testing.T, addr string) sandbox.Stats {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var st sandbox.Stats
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("sandbox stats: %v: %s", err, body)
	}
	return st
}

// cleanEnv is this process's environment without any setting of Lepus, its
// providers or the sandbox, for a child that gets exactly the ones a test
// sets.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !hasAnyPrefix(kv, "LEPUS_", "KLING_", "SANDBOX_", "ARK_", "STABILITY_", "SEEDREAM_") {
			env = append(env, kv)
		}
	}
	return env
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
