package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestClient(t *testing.T, url, token string) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{BaseURL: url, Token: token, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClient_Create checks that a create lost on the network, or answered
// 503, is sent again with the same idempotency key.
func TestClient_Create(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		first func(w http.ResponseWriter)
	}{
		{"ConnectionDropped", func(w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			conn.Close() // no answer at all
		}},
		{"Unavailable", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"title":"Service Unavailable","status":503,"detail":"the database is unavailable; try again shortly"}`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var keys []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/kling/face-swap" || r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("unexpected %s %s (auth %q)", r.Method, r.URL.Path, r.Header.Get("Authorization"))
				}
				mu.Lock()
				keys = append(keys, r.Header.Get("Idempotency-Key"))
				n := len(keys)
				mu.Unlock()
				if n == 1 {
					tc.first(w)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte(`{"id":"tsk_1","type":"face_swap","status":"pending","cost":4}`))
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL, "tok")
			task, replayed, err := c.Create(context.Background(), "/kling/face-swap", []byte(`{}`), "key-1")
			if err != nil {
				t.Fatal(err)
			}
			if task.ID != "tsk_1" || replayed {
				t.Fatalf("task %+v, replayed %v", task, replayed)
			}
			if len(keys) != 2 || keys[0] != "key-1" || keys[1] != "key-1" {
				t.Fatalf("keys sent: %q", keys)
			}
		})
	}
}

func TestClient_ErrorsAndExitCodes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tasks/tsk_gone":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"title":"Not Found","status":404,"detail":"task not found"}`))
		case "/credits":
			w.WriteHeader(http.StatusBadGateway) // a proxy's page, not a problem
			_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		}
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, "tok")

	_, _, err := c.Task(context.Background(), "tsk_gone")
	if ExitCode(err) != ExitAPI || err.Error() != "Not Found (404): task not found" {
		t.Fatalf("404: exit %d, %v", ExitCode(err), err)
	}
	_, _, err = c.Credits(context.Background())
	if ExitCode(err) != ExitServer || !strings.Contains(err.Error(), "Bad Gateway (502)") {
		t.Fatalf("502: exit %d, %v", ExitCode(err), err)
	}
	if ExitCode(&EndedError{Task: &Task{ID: "t", Status: "failed"}}) != ExitTask {
		t.Fatal("a failed task is not exit 4")
	}
	if _, err := NewClient(ClientConfig{BaseURL: "ftp://x"}); ExitCode(err) != ExitUsage {
		t.Fatalf("bad server URL: %v", err)
	}
}

func TestProblem_Error(t *testing.T) {
	t.Parallel()
	p := &Problem{Status: 422, Title: "Unprocessable Entity", Detail: "validation failed", Errors: []ProblemError{
		{Location: "body.face_image_url", Message: "is required"},
		{Message: "no location"},
	}}
	want := "Unprocessable Entity (422): validation failed\n  body.face_image_url: is required\n  no location"
	if p.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", p.Error(), want)
	}
}

// TestClient_Download checks that the token goes only to the server: an
// asset Lepus could not store is fetched from its provider URL without it.
func TestClient_Download(t *testing.T) {
	t.Parallel()
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != "" {
			t.Errorf("the provider got Authorization %q", auth)
		}
		_, _ = w.Write([]byte("provider bytes"))
	}))
	t.Cleanup(provider.Close)
	lepus := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/assets/ast_1/content" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("unexpected %s (auth %q)", r.URL.Path, r.Header.Get("Authorization"))
		}
		_, _ = w.Write([]byte("stored bytes"))
	}))
	t.Cleanup(lepus.Close)
	c := newTestClient(t, lepus.URL, "tok")

	for _, tc := range []struct {
		name  string
		asset Asset
		want  string
	}{
		// The stored asset's URL names another host (LEPUS_PUBLIC_URL):
		// it is read from --server all the same.
		{"Stored", Asset{ID: "ast_1", Stored: true, URL: "https://public.example/assets/ast_1/content"}, "stored bytes"},
		{"ProviderURL", Asset{ID: "ast_2", Stored: false, URL: provider.URL + "/result.png"}, "provider bytes"},
	} {
		var buf bytes.Buffer
		if err := c.Download(context.Background(), tc.asset, &buf); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if buf.String() != tc.want {
			t.Fatalf("%s: got %q", tc.name, buf.String())
		}
	}
}

func TestClient_EventsReadsUntilTheStreamEnds(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(": a comment\n\nevent: status\ndata: {\"status\":\"processing\",\"progress\":24,\"step\":\"image.wait\"}\n\n" +
			"event: progress\ndata: {\"progress\":80,\"step\":\"image.collect\"}\n\n" +
			"event: asset\ndata: {\"id\":\"ast_1\",\n" + "data: \"kind\":\"image\"}\n\n" +
			"event: status\ndata: {\"status\":\"completed\",\"progress\":100,\"step\":\"image.done\"}\n\n"))
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, "tok")
	var names []string
	var data []string
	err := c.Events(context.Background(), "tsk_1", func(ev Event) error {
		names, data = append(names, ev.Name), append(data, string(ev.Data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "status,progress,asset,status" || data[2] != "{\"id\":\"ast_1\",\n\"kind\":\"image\"}" {
		t.Fatalf("events %q %q", names, data)
	}

	stop := errors.New("stop")
	if err := c.Events(context.Background(), "tsk_1", func(Event) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("fn's error: %v", err)
	}
}
