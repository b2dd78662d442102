package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/auth"
)

const testSecret = "test-secret-test-secret-test-secret-0123"

// lepusServer is `lepus serve` booted through run on a free port.
type lepusServer struct {
	url    string
	signer *auth.Signer
}

// startServe boots run(["serve"]) with env on top of fast test defaults,
// waits until it serves, and stops it when the test ends.
func startServe(t testing.TB, env map[string]string) *lepusServer {
	t.Helper()
	return startRole(t, "serve", env)
}

// startRole boots run([cmd]) (serve, api or worker) like startServe. For a
// worker, which serves no HTTP, the server it returns has no URL. An api
// or worker without LEPUS_PUBLIC_URL in env gets its own address as one.
func startRole(t testing.TB, cmd string, env map[string]string) *lepusServer {
	t.Helper()
	return startRoleLogs(t, cmd, env, newClosingLog(t))
}

// startRoleLogs is startRole with the process's logs written to logs,
// which must stay writable until the test's cleanups have run.
func startRoleLogs(t testing.TB, cmd string, env map[string]string, logs io.Writer) *lepusServer {
	t.Helper()
	vars := map[string]string{
		"LEPUS_ADDR":                "127.0.0.1:0",
		"LEPUS_DATA_DIR":            t.TempDir(),
		"LEPUS_JWT_SECRET":          testSecret,
		"LEPUS_POLL_INTERVAL":       "50ms",
		"LEPUS_QUEUE_POLL_INTERVAL": "20ms",
		"LEPUS_RETRY_BASE":          "20ms",
		"LEPUS_LOG_LEVEL":           "warn",
		"SANDBOX_IMAGE_LATENCY":     "100ms",
		"SANDBOX_VIDEO_LATENCY":     "150ms",
	}
	for k, v := range env {
		vars[k] = v
	}
	if cmd != "serve" && vars["LEPUS_PUBLIC_URL"] == "" {
		// lepus api and lepus worker need it: their own address (a
		// worker's names nothing that serves; pass the API's to test its
		// links).
		if vars["LEPUS_ADDR"] == "127.0.0.1:0" {
			vars["LEPUS_ADDR"] = freeAddr(t)
		}
		vars["LEPUS_PUBLIC_URL"] = "http://" + vars["LEPUS_ADDR"]
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{cmd}, func(k string) string { return vars[k] }, nil, pw, logs)
		pw.CloseWithError(fmt.Errorf("%s returned: %v", cmd, err))
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", cmd, err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("%s did not stop", cmd)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("%s did not start: %v", cmd, err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	fields := strings.Fields(line) // "lepus serving at URL (mode)" or "lepus worker running (mode)"
	if cmd == "worker" {
		return &lepusServer{signer: startSigner(t)}
	}
	if len(fields) < 4 {
		t.Fatalf("unexpected first line %q", line)
	}
	return &lepusServer{url: fields[3], signer: startSigner(t)}
}

// startSigner signs tokens with the tests' LEPUS_JWT_SECRET.
func startSigner(t testing.TB) *auth.Signer {
	t.Helper()
	signer, err := auth.NewSigner([]byte(testSecret), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func (s *lepusServer) token(t testing.TB, user string) string {
	t.Helper()
	tok, err := s.signer.Sign(user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request to path on s and decodes a JSON answer into out (if
// non-nil).
func (s *lepusServer) do(t testing.TB, method, path, token string, body io.Reader, header map[string]string, out any) *http.Response {
	t.Helper()
	return doURL(t, method, s.url+path, token, body, header, out)
}

// doURL sends a request to an absolute URL (such as a task's links) and
// decodes a JSON answer into out (if non-nil). The answer's body is read
// whole and closed; the one returned holds its bytes.
func doURL(t testing.TB, method, url, token string, body io.Reader, header map[string]string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: decode: %v", method, url, resp.StatusCode, data, err)
		}
	}
	return resp
}

func (s *lepusServer) postJSON(t testing.TB, path, token string, body any, header map[string]string, out any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	return s.do(t, http.MethodPost, path, token, bytes.NewReader(b), h, out)
}

type uploadResp struct {
	ID, URL, Mime, Kind string
	Bytes               int64
	Width, Height       int
	DurationS           float64 `json:"duration_s"`
}

func (s *lepusServer) upload(t testing.TB, token string, data []byte) (*http.Response, uploadResp) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	_, _ = fw.Write(data)
	_ = mw.Close()
	var out uploadResp
	resp := s.do(t, http.MethodPost, "/uploads", token, &buf, map[string]string{"Content-Type": mw.FormDataContentType()}, nil)
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &out)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, out
}

type taskResp struct {
	ID       string
	Type     string
	Status   string
	Step     string
	Progress int
	Error    *struct{ Code, Message string }
	Assets   []struct {
		ID, Kind, Mime, URL string
		Width, Height       int
		DurationS           float64 `json:"duration_s"`
		Bytes               int64
		ProviderID          string `json:"provider_id"`
		Primary             bool
	}
	Effective map[string]map[string]any
	Stages    []struct {
		Name, Phase string
		Error       *struct{ Code, Message string }
	}
	Notes []string
	Cost  int
}

type problemResp struct {
	Title  string
	Status int
	Detail string
	Errors []struct{ Message, Location string }
}

// mentions reports whether the problem names field in a location or message.
func (p problemResp) mentions(field string) bool {
	if strings.Contains(p.Detail, field) {
		return true
	}
	for _, e := range p.Errors {
		if strings.Contains(e.Location, field) || strings.Contains(e.Message, field) {
			return true
		}
	}
	return false
}

type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// closingLog is a testLog that goes quiet once the test is over: a server's
// straggling goroutines may still log after it stopped, and testing panics
// (killing a fuzz worker) on a log after the test completed.
type closingLog struct {
	t    testing.TB
	done *atomic.Bool
}

// newClosingLog returns a log for t that is silenced by t's cleanup; make it
// before anything whose cleanup must still log (cleanups run last first).
func newClosingLog(t testing.TB) closingLog {
	l := closingLog{t: t, done: new(atomic.Bool)}
	t.Cleanup(func() { l.done.Store(true) })
	return l
}

func (w closingLog) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
