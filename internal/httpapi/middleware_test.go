package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/auth"
)

// testBundle is the API handler behind a real server, so read deadlines
// apply, plus a token it accepts.
type testBundle struct {
	srv   *httptest.Server
	token string
	logs  *bytes.Buffer
}

func setup(t *testing.T, d Deps) *testBundle {
	t.Helper()
	signer, err := auth.NewSigner([]byte("test-secret-test-secret-test-secret-0123"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign("ana", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	d.Auth, d.Logger, d.Version = signer, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), "test"
	srv := httptest.NewServer(NewHandler(d))
	t.Cleanup(srv.Close)
	return &testBundle{srv: srv, token: tok, logs: logs}
}

// TestUpload_SlowBody: an upload whose body stops arriving is answered 408
// problem+json once the upload timeout passes, without socket addresses.
func TestUpload_SlowBody(t *testing.T) {
	t.Parallel()
	b := setup(t, Deps{UploadTimeout: 300 * time.Millisecond})

	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\n only the start"))
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go func() { _, _ = pw.Write(head.Bytes()) }() // then nothing more

	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/uploads", pr)
	req.ContentLength = int64(head.Len()) + 1<<20 // promises much more
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d %s: %s, want 408 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %v", d)
	}
	var p struct{ Detail string }
	if err := json.Unmarshal(body, &p); err != nil || !strings.Contains(p.Detail, "request body read timeout") {
		t.Fatalf("body %s", body)
	}
	if regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|tcp|i/o timeout`).MatchString(p.Detail) {
		t.Errorf("detail leaks socket details: %s", p.Detail)
	}
}

// TestNewHandler_Nosniff: every answer, an error included, says nosniff.
func TestNewHandler_Nosniff(t *testing.T) {
	t.Parallel()
	b := setup(t, Deps{})
	for _, path := range []string{"/openapi.json", "/tasks/nope", "/no-such-route"} {
		resp, err := http.Get(b.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s (%d): X-Content-Type-Options = %q", path, resp.StatusCode, got)
		}
	}
}

func TestContentHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ id, mime, want string }{
		{"up_abc123", "image/png", `inline; filename="up_abc123.png"`},
		{"as_1", "video/mp4", `inline; filename="as_1.mp4"`},
		{`x"; filename="evil.html`, "text/html", `inline; filename="xfilenameevilhtml"`},
		{"é", "application/octet-stream", `inline; filename="content"`},
	} {
		w := httptest.NewRecorder()
		contentHeaders(w, tc.id, tc.mime)
		h := w.Header()
		if got := h.Get("Content-Disposition"); got != tc.want {
			t.Errorf("%q: Content-Disposition = %q, want %q", tc.id, got, tc.want)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "default-src 'none'; sandbox" || h.Get("Content-Type") != tc.mime {
			t.Errorf("%q: headers %v", tc.id, h)
		}
	}
}

// TestProblem_ClientGone: a request the client gave up on is no internal
// error: no ERROR line, a 499 nobody reads.
func TestProblem_ClientGone(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	err := problem(context.Background(), log, &wrapped{context.Canceled})
	var p struct{ Status int }
	data, _ := json.Marshal(err)
	_ = json.Unmarshal(data, &p)
	if p.Status != statusClientClosedRequest {
		t.Errorf("status %d, want 499", p.Status)
	}
	if l := logs.String(); strings.Contains(l, "level=ERROR") || strings.Contains(l, "internal error") || !strings.Contains(l, "level=DEBUG") {
		t.Errorf("log %q, want one DEBUG line", l)
	}
}

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "list tasks: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

func TestCORS(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/tasks/1")
		w.WriteHeader(http.StatusAccepted)
	})
	preflight := func(h http.Handler, origin string) *http.Response {
		r := httptest.NewRequest(http.MethodOptions, "/kling/face-swap", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key,prefer,x-request-id")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	actual := func(h http.Handler, origin string) *http.Response {
		r := httptest.NewRequest(http.MethodPost, "/kling/face-swap", nil)
		r.Header.Set("Origin", origin)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}

	t.Run("OKAny", func(t *testing.T) {
		t.Parallel()
		h := CORS([]string{"*"})(ok)
		resp := preflight(h, "https://anything.example")
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			resp.Header.Get("Access-Control-Allow-Methods") != "POST" || resp.Header.Get("Access-Control-Max-Age") == "" ||
			!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
		}
		resp = actual(h, "https://anything.example")
		if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			resp.Header.Get("Access-Control-Expose-Headers") != "Location, Idempotent-Replayed, Retry-After, Content-Disposition, Content-Range, X-Request-Id" {
			t.Fatalf("actual %d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("OKListed", func(t *testing.T) {
		t.Parallel()
		h := CORS([]string{"https://app.example.com"})(ok)
		if got := preflight(h, "https://app.example.com").Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Fatalf("ACAO %q", got)
		}
	})

	t.Run("ErrOriginNotListed", func(t *testing.T) {
		t.Parallel()
		h := CORS([]string{"https://app.example.com"})(ok)
		for _, resp := range []*http.Response{preflight(h, "https://evil.example"), actual(h, "https://evil.example")} {
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("ACAO %q for an origin not listed", got)
			}
		}
	})

	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		h := CORS(nil)(ok)
		if got := actual(h, "https://app.example.com").Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("ACAO %q with CORS off", got)
		}
	})
}
