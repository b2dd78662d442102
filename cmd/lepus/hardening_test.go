package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sample"
)

// preflight sends a browser's CORS preflight for a POST with the headers
// Lepus clients send.
func (s *lepusServer) preflight(t *testing.T, path, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, s.url+path, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key,prefer,x-request-id")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestServe_CORSSandbox: in sandbox mode any origin may call the API; the
// preflight of every route is answered 204, before routing and auth.
func TestServe_CORSSandbox(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	for _, path := range []string{"/kling/face-swap", "/uploads", "/tasks/tsk_x/cancel", "/v2/avatars/confirm-portraits"} {
		resp := s.preflight(t, path, "http://localhost:5173")
		h := resp.Header
		allowHeaders := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Max-Age") == "" {
			t.Fatalf("preflight %s: %d %v", path, resp.StatusCode, h)
		}
		for _, want := range []string{"authorization", "content-type", "idempotency-key", "prefer", "x-request-id"} {
			if !strings.Contains(allowHeaders, want) {
				t.Fatalf("preflight %s: Access-Control-Allow-Headers %q lacks %s", path, allowHeaders, want)
			}
		}
	}
	resp := s.do(t, http.MethodGet, "/healthz", "", nil, map[string]string{"Origin": "http://localhost:5173"}, nil)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Location, Idempotent-Replayed, Retry-After") {
		t.Fatalf("GET /healthz: %v", resp.Header)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /healthz: no nosniff: %v", resp.Header)
	}
}

// TestServe_CORSLive: in live mode only LEPUS_CORS_ORIGINS may call; by
// default nobody.
func TestServe_CORSLive(t *testing.T) {
	t.Parallel()
	const app = "https://app.example.com"

	t.Run("OKListed", func(t *testing.T) {
		t.Parallel()
		s, _ := startLive(t, nil, map[string]string{"LEPUS_CORS_ORIGINS": app})
		resp := s.preflight(t, "/kling/face-swap", app)
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != app {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
		tok := s.token(t, "ana")
		get := s.do(t, http.MethodGet, "/credits", tok, nil, map[string]string{"Origin": app}, nil)
		if get.StatusCode != http.StatusOK || get.Header.Get("Access-Control-Allow-Origin") != app ||
			!strings.Contains(get.Header.Get("Vary"), "Origin") {
			t.Fatalf("GET /credits: %d %v", get.StatusCode, get.Header)
		}
		for _, resp := range []*http.Response{
			s.preflight(t, "/kling/face-swap", "https://evil.example.com"),
			s.do(t, http.MethodGet, "/credits", tok, nil, map[string]string{"Origin": "https://evil.example.com"}, nil),
		} {
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("%s from an origin not listed: Access-Control-Allow-Origin %q", resp.Request.Method, got)
			}
		}
	})

	t.Run("OKNoneByDefault", func(t *testing.T) {
		t.Parallel()
		s, _ := startLive(t, nil, nil)
		resp := s.preflight(t, "/kling/face-swap", app)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("preflight without LEPUS_CORS_ORIGINS: %d, Access-Control-Allow-Origin %q", resp.StatusCode, got)
		}
	})
}

// TestServe_ContentHeaders: uploads and assets are served so that a
// browser never runs them: nosniff, a sandboxing CSP and a file name
// Lepus chose.
func TestServe_ContentHeaders(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	tok := s.token(t, "ana")
	_, scene := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	_, face := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
	check := func(path, name string, resp *http.Response) {
		t.Helper()
		h := resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Content-Security-Policy") != "default-src 'none'; sandbox" ||
			h.Get("Content-Disposition") != `inline; filename="`+name+`"` {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, h)
		}
	}
	path := strings.TrimPrefix(scene.URL, s.url)
	check(path, scene.ID+".png", s.do(t, http.MethodGet, path, "", nil, nil, nil))

	var task taskResp
	s.postJSON(t, "/kling/face-swap", tok, map[string]any{"source_image_url": scene.URL, "face_image_url": face.URL}, nil, &task)
	s.events(t, tok, task.ID)
	var done taskResp
	s.do(t, http.MethodGet, "/tasks/"+task.ID, tok, nil, nil, &done)
	if done.Status != "completed" || len(done.Assets) == 0 {
		t.Fatalf("task %+v", done)
	}
	a := done.Assets[0]
	path = strings.TrimPrefix(a.URL, s.url)
	check(path, a.ID+".png", s.do(t, http.MethodGet, path, tok, nil, nil, nil))
}

// leaky matches what an input URL's error must never show a client: an
// IP address, a resolver, or a raw Go network error.
var leaky = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|dial tcp|lookup |read tcp|i/o timeout|Get "`)

// TestServe_FetchErrors: an input URL Lepus cannot use is refused with a
// reason the caller can act on.
func TestServe_FetchErrors(t *testing.T) {
	t.Parallel()
	missing := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(missing.Close)
	for _, tc := range []struct {
		name, allow, url, want string
	}{
		{"NotFound", "true", missing.URL + "/face.png", "could not fetch the file: could not download: HTTP 404 Not Found"},
		{"Refused", "false", "http://localhost:9/face.png", "could not fetch the file: this address is not allowed"},
		{"RefusedIP", "false", "http://10.1.2.3/face.png", "could not fetch the file: this address is not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServe(t, map[string]string{"LEPUS_ALLOW_PRIVATE_URLS": tc.allow})
			tok := s.token(t, "ana")
			_, scene := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
			var p problemResp
			resp := s.postJSON(t, "/kling/face-swap", tok, map[string]any{"source_image_url": scene.URL, "face_image_url": tc.url}, nil, &p)
			text := problemText(p)
			if resp.StatusCode != http.StatusUnprocessableEntity || !p.mentions("body.face_image_url") || !strings.Contains(text, tc.want) {
				t.Fatalf("%d %q, want 422 with %q", resp.StatusCode, text, tc.want)
			}
			// The 10.x address is the client's own; anything else is Lepus's.
			if m := leaky.FindString(strings.ReplaceAll(text, "10.1.2.3", "")); m != "" {
				t.Fatalf("problem %q leaks %q", text, m)
			}
		})
	}
}

// syncBuffer is a log sink the server writes to while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// bootLogged runs `lepus serve` with exactly env (plus a free port) until
// it serves, and returns what it logged by then.
func bootLogged(t *testing.T, env map[string]string) string {
	t.Helper()
	vars := map[string]string{"LEPUS_ADDR": "127.0.0.1:0", "LEPUS_LOG_LEVEL": "info"}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, nil, pw, logs)
		pw.CloseWithError(fmt.Errorf("serve returned: %v", err))
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("serve did not stop")
		}
	})
	if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
		t.Fatalf("serve did not start: %v\n%s", err, logs)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return logs.String()
}

// TestServe_DataDirModes: the data dir (database, blobs) and the generated
// JWT secret are readable by the owner only.
func TestServe_DataDirModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	bootLogged(t, map[string]string{"LEPUS_DATA_DIR": dir})
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "jwt-secret"): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", filepath.Base(path), got, want)
		}
	}
}

// TestServe_SSRFGuardOffWarning: an operator is told at start when URL
// inputs may reach private addresses, and not otherwise.
func TestServe_SSRFGuardOffWarning(t *testing.T) {
	t.Parallel()
	const warning = "SSRF guard off"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"Sandbox", nil, true},
		{"ExplicitOn", map[string]string{"LEPUS_ALLOW_PRIVATE_URLS": "1"}, true},
		{"Off", map[string]string{"LEPUS_ALLOW_PRIVATE_URLS": "0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"LEPUS_DATA_DIR": t.TempDir(), "LEPUS_JWT_SECRET": testSecret}
			for k, v := range tc.env {
				env[k] = v
			}
			logs := bootLogged(t, env)
			var line string
			for _, l := range strings.Split(logs, "\n") {
				if strings.Contains(l, warning) {
					line = l
				}
			}
			if tc.want && (!strings.Contains(line, "level=WARN") || !strings.Contains(line, "LEPUS_ALLOW_PRIVATE_URLS")) {
				t.Fatalf("no WARN naming LEPUS_ALLOW_PRIVATE_URLS in:\n%s", logs)
			}
			if !tc.want && line != "" {
				t.Fatalf("warning with the guard on: %s", line)
			}
		})
	}
}
