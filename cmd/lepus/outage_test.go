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
	"github.com/lepus-ai/lepus/internal/sandbox"
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
	u, proxy := proxiedPostgres(t) // skips without LEPUS_TEST_DATABASE_URL

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

// TestServe_DatabaseOutageResumesTasks cuts Postgres while face swaps are
// at the provider, keeps it cut until the provider has finished them all,
// and restores it: every task completes soon after, without waiting for a
// rescue timer (River's is minutes). A run whose end River could not record
// in the outage is handed back by Lepus within about 15 s; most resume at once.
func TestServe_DatabaseOutageResumesTasks(t *testing.T) {
	t.Parallel()
	u, proxy := proxiedPostgres(t)
	sb := sandbox.New(sandbox.Config{ImageLatency: 400 * time.Millisecond})
	t.Cleanup(sb.Close)
	provider := httptest.NewServer(sb)
	t.Cleanup(provider.Close)

	s := startServe(t, map[string]string{
		"LEPUS_DATABASE_URL": u.String(), "LEPUS_ALLOW_PRIVATE_URLS": "1",
		"KLING_ACCESS_KEY": "sandbox-ak", "KLING_SECRET_KEY": "sandbox-sk", "KLING_BASE_URL": provider.URL,
	})
	tok := s.token(t, "otto")
	body := faceSwapBody(t, s, tok)
	const n = 4
	var ids []string
	for range n {
		var task taskResp
		s.postJSON(t, "/kling/face-swap", tok, body, nil, &task)
		ids = append(ids, task.ID)
	}
	for _, id := range ids {
		waitOn(t, s, tok, id, func(tr taskResp) bool { return tr.Status == "processing" })
	}

	proxy.Cut()
	waitUntil(t, "the provider finishes every task", func() bool { return sb.Stats().Succeeded >= n })
	proxy.Restore()
	restored := time.Now()
	for _, id := range ids {
		done := waitOn(t, s, tok, id, func(tr taskResp) bool { return tr.Status != "pending" && tr.Status != "processing" })
		if done.Status != "completed" {
			t.Fatalf("task %s after the outage: %+v", id, done)
		}
		if sb.Submissions(id+"-image") != 1 {
			t.Fatalf("task %s submitted %d times", id, sb.Submissions(id+"-image"))
		}
	}
	took := time.Since(restored)
	t.Logf("all %d tasks completed %s after the database returned", n, took.Round(time.Millisecond))
	if took > 40*time.Second {
		t.Fatalf("tasks took %s after the database returned: they waited for a rescue", took)
	}
}

// proxiedPostgres returns a fresh Postgres schema's URL routed through a
// TCP proxy the test can cut, and the proxy.
func proxiedPostgres(t *testing.T) (*url.URL, *tcpproxy.Proxy) {
	t.Helper()
	u, err := url.Parse(sqlstoretest.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := tcpproxy.Listen(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	u.Host = proxy.Addr()
	return u, proxy
}

// waitOn polls a task until cond holds (90 s at most); reads that fail
// while the database is away are retried.
func waitOn(t *testing.T, s *lepusServer, tok, id string, cond func(taskResp) bool) taskResp {
	t.Helper()
	var tr taskResp
	waitUntil(t, "task "+id, func() bool {
		tr = taskResp{}
		resp := s.do(t, "GET", "/tasks/"+id, tok, nil, nil, &tr)
		return resp.StatusCode == http.StatusOK && cond(tr)
	})
	return tr
}

// waitUntil polls cond every 20 ms for at most 90 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
