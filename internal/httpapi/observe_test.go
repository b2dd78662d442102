package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/auth"
	"github.com/lepus-ai/lepus/internal/logging"
	"github.com/lepus-ai/lepus/internal/metrics"
	"github.com/lepus-ai/lepus/internal/metrics/metricstest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines that
// signals each write.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed and replaced at each write
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{written: make(chan struct{})} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.written)
	b.written = make(chan struct{})
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// accessLines returns the access log records written so far.
// and a channel closed at the next write.
func (b *syncBuffer) accessLines(t *testing.T) ([]map[string]any, <-chan struct{}) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["msg"] == "http request" {
			out = append(out, rec)
		}
	}
	return out, b.written
}

// observeBundle is the API handler with JSON logs and metrics.
type observeBundle struct {
	srv   *httptest.Server
	token string
	logs  *syncBuffer
}

func setupObserve(t *testing.T) *observeBundle {
	t.Helper()
	signer, err := auth.NewSigner([]byte("test-secret-test-secret-test-secret-0123"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign("ana", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	logs := newSyncBuffer()
	logger, err := logging.New(logs, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(Deps{Auth: signer, Logger: logger, Version: "test", Metrics: metrics.New()}))
	t.Cleanup(srv.Close)
	return &observeBundle{srv: srv, token: tok, logs: logs}
}

// send makes a request; the answer has been read whole when it returns,
// and so (the handler having returned) its access log line is written.
func (b *observeBundle) send(t *testing.T, method, path, requestID string, body string) *http.Response {
	t.Helper()
	return b.sendAs(t, b.token, method, path, requestID, body)
}

// sendAs is send with a given bearer token ("" for none).
func (b *observeBundle) sendAs(t *testing.T, token, method, path, requestID string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	return resp
}

// findAccess waits for the access line of request id: the handler may log
// it just after the client got the last byte.
func (b *observeBundle) findAccess(t *testing.T, id string) map[string]any {
	t.Helper()
	for {
		lines, written := b.logs.accessLines(t)
		for _, rec := range lines {
			if rec["request_id"] == id {
				return rec
			}
		}
		select {
		case <-written:
		case <-time.After(time.Minute): // a bound on a hang, not a wait
			t.Fatalf("no access log line with request_id %q", id)
		}
	}
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestObserve_RequestID(t *testing.T) {
	t.Parallel()
	b := setupObserve(t)
	for _, tc := range []struct {
		name, sent string
		keep       bool
	}{
		{"Given", "req-0123_ABC.xyz:1", true},
		{"GivenLongest", strings.Repeat("r", 128), true},
		{"Missing", "", false},
		{"ErrTooLong", strings.Repeat("r", 129), false},
		{"ErrNotASCII", "caf\xc3\xa9", false},
		{"ErrControl", "a\tb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := b.send(t, http.MethodGet, "/livez", tc.sent, "")
			got := resp.Header.Get("X-Request-Id")
			if tc.keep && got != tc.sent {
				t.Fatalf("X-Request-Id = %q, want the one sent, %q", got, tc.sent)
			}
			if !tc.keep && !generatedID.MatchString(got) {
				t.Fatalf("X-Request-Id = %q, want a generated one (sent %q)", got, tc.sent)
			}
			b.findAccess(t, got)
		})
	}
	t.Run("OnEveryAnswer", func(t *testing.T) {
		for _, path := range []string{"/no-such-route", "/tasks/x/events", "/openapi.json"} {
			resp := b.sendAs(t, "", http.MethodGet, path, "", "")
			if !generatedID.MatchString(resp.Header.Get("X-Request-Id")) {
				t.Errorf("%s (%d): X-Request-Id = %q", path, resp.StatusCode, resp.Header.Get("X-Request-Id"))
			}
		}
	})
}

// TestObserve_AccessLog: one JSON line per request with method, route
// pattern (never the raw path), status, duration, user and request id.
func TestObserve_AccessLog(t *testing.T) {
	t.Parallel()
	b := setupObserve(t)

	// A secured route with a body that fails validation: authenticated
	// (the user is known), 422, and no application behind it needed.
	resp := b.send(t, http.MethodPost, "/kling/face-swap", "create-1", `{"source_image_url": 5}`)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	rec := b.findAccess(t, "create-1")
	want := map[string]any{"level": "INFO", "method": "POST", "route": "/kling/face-swap", "status": float64(422), "user_id": "ana"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v (line %v)", k, rec[k], v, rec)
		}
	}
	if d, ok := rec["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms = %v", rec["duration_ms"])
	}

	// A path is logged by its pattern, not as sent (paths hold secrets:
	// callback tokens, upload ids).
	b.sendAs(t, "", http.MethodGet, "/tasks/tsk_secretish", "get-1", "")
	if rec := b.findAccess(t, "get-1"); rec["route"] != "/tasks/{id}" || rec["status"] != float64(401) || strings.Contains(b.logs.String(), "tsk_secretish") {
		t.Errorf("route = %v; the raw path must not be logged", rec["route"])
	}
	b.send(t, http.MethodGet, "/nowhere", "miss-1", "")
	if rec := b.findAccess(t, "miss-1"); rec["route"] != "unmatched" || rec["status"] != float64(404) {
		t.Errorf("unmatched: %v", rec)
	}
	// Probes are logged at debug.
	b.send(t, http.MethodGet, "/livez", "probe-1", "")
	if rec := b.findAccess(t, "probe-1"); rec["level"] != "DEBUG" {
		t.Errorf("probe logged at %v", rec["level"])
	}

	// The same requests in the metrics, by route pattern.
	mresp, err := http.Get(b.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer mresp.Body.Close()
	if !generatedID.MatchString(mresp.Header.Get("X-Request-Id")) {
		t.Errorf("/metrics X-Request-Id = %q", mresp.Header.Get("X-Request-Id"))
	}
	s := metricstest.Parse(t, mresp.Body)
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"method", "POST", "route", "/kling/face-swap", "code", "422"}, 1},
		{[]string{"method", "GET", "route", "/tasks/{id}"}, 1},
		{[]string{"route", "unmatched", "code", "404"}, 1},
		{[]string{"route", "/livez", "code", "200"}, 1},
	} {
		if v, _ := s.Value("lepus_http_requests_total", c.labels...); v != c.want {
			t.Errorf("lepus_http_requests_total%v = %v, want %v", c.labels, v, c.want)
		}
	}
	if v, _ := s.Value("lepus_http_request_seconds", "route", "/kling/face-swap"); v != 1 {
		t.Errorf("lepus_http_request_seconds count = %v, want 1", v)
	}
	if _, ok := s.Value("go_goroutines"); !ok {
		t.Error("no Go runtime metrics")
	}
}
