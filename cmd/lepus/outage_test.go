package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
	"github.com/lepus-ai/lepus/internal/testutil/tcpproxy"
)

// TestServe_DatabaseOutage cuts the line between `lepus serve` and Postgres:
// creating and reading a task answer 503 problem+json with Retry-After from
// the very first request (pooled connections are dead, not just new ones),
// and work again once the line is restored. Postgres only: SQLite is a
// local file and has no line to cut.
func TestServe_DatabaseOutage(t *testing.T) {
	t.Parallel()
	dbURL := sqlstoretest.PostgresSchema(t) // skips without LEPUS_TEST_DATABASE_URL
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := tcpproxy.Listen(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	u.Host = proxy.Addr()

	// Inputs come from a server the test holds, not from uploads: checking
	// an upload reads the database too, and this test is about the store
	// answers of create and get.
	images := map[string][]byte{
		"/scene.png": sample.PortraitPNG(sample.Palettes[0], 400, 500),
		"/face.png":  sample.PortraitPNG(sample.Palettes[1], 400, 500),
	}
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := images[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(b)
	}))
	t.Cleanup(files.Close)

	s := startServe(t, map[string]string{
		"LEPUS_DATABASE_URL":       u.String(),
		"LEPUS_ALLOW_PRIVATE_URLS": "1",
	})
	tok := s.token(t, "olga")
	body := map[string]any{"source_image_url": files.URL + "/scene.png", "face_image_url": files.URL + "/face.png"}

	var task taskResp
	if resp := s.postJSON(t, "/kling/face-swap", tok, body, nil, &task); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create before the outage: %d %+v", resp.StatusCode, task)
	}
	if resp := s.do(t, "GET", "/tasks/"+task.ID, tok, nil, nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("get before the outage: %d", resp.StatusCode)
	}

	proxy.Cut()
	// No polling here: the first request after the cut must already be 503.
	checkUnavailable(t, "create", s.postJSON(t, "/kling/face-swap", tok, body, nil, nil))
	checkUnavailable(t, "get", s.do(t, "GET", "/tasks/"+task.ID, tok, nil, nil, nil))
	checkUnavailable(t, "create again", s.postJSON(t, "/kling/face-swap", tok, body, nil, nil))

	proxy.Restore()
	// Each request may spend a broken pooled connection; wait until the
	// pool has reconnected rather than for a fixed time.
	waitStatus(t, "get after restore", http.StatusOK, func() *http.Response {
		return s.do(t, "GET", "/tasks/"+task.ID, tok, nil, nil, nil)
	})
	var again taskResp
	waitStatus(t, "create after restore", http.StatusAccepted, func() *http.Response {
		return s.postJSON(t, "/kling/face-swap", tok, body, nil, &again)
	})
	if again.ID == "" || again.ID == task.ID {
		t.Fatalf("create after restore returned task %q (first was %q)", again.ID, task.ID)
	}
}

// checkUnavailable asserts an outage answer: 503, Retry-After in seconds,
// problem+json with a detail that says what happened and leaks no driver text.
func checkUnavailable(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	var p problemResp
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%s during the outage: %d, want 503", what, resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "5" {
		t.Errorf("%s: Retry-After %q, want \"5\"", what, ra)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("%s: decode problem: %v", what, err)
	}
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Detail, "database is unavailable") {
		t.Errorf("%s: problem %+v", what, p)
	}
	for _, leak := range []string{"127.0.0.1", "EOF", "connect", "pgx", "dial"} {
		if strings.Contains(p.Detail, leak) {
			t.Errorf("%s: detail %q leaks driver text %q", what, p.Detail, leak)
		}
	}
}

// waitStatus repeats req until it answers want, for up to 60 s.
func waitStatus(t *testing.T, what string, want int, req func() *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		resp := req()
		if resp.StatusCode == want {
			return
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d, want %d (or 503 while reconnecting)", what, resp.StatusCode, want)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: still %d after 60 s", what, resp.StatusCode)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
