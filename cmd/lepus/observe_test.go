package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/metrics/metricstest"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// scrape reads url (a /metrics address) and parses it.
func scrape(t *testing.T, url string) metricstest.Scrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return metricstest.Parse(t, resp.Body)
}

// waitScrape scrapes url until cond holds; what names the condition in
// the failure. A process's metrics change on no signal a test can hear, so
// this polls, up to a minute (a bound on a hang, not a wait).
func waitScrape(t *testing.T, url, what string, cond func(metricstest.Scrape) bool) metricstest.Scrape {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		s := scrape(t, url)
		if cond(s) {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %s not seen within a minute", url, what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// faceSwap creates a face swap on fresh uploads with requestID, returning
// the task and the create's response.
func faceSwap(t *testing.T, s *lepusServer, tok, requestID string) (taskResp, *http.Response) {
	t.Helper()
	var task taskResp
	resp := s.postJSON(t, "/kling/face-swap", tok, faceSwapBody(t, s, tok), map[string]string{"X-Request-Id": requestID}, &task)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create: %d %+v", resp.StatusCode, task)
	}
	return task, resp
}

// TestServe_Metrics: a face swap through the sandbox moves the numbers a
// real scrape of /metrics shows.
func TestServe_Metrics(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	tok := s.token(t, "mia")
	task, resp := faceSwap(t, s, tok, "metrics-create-1")
	if got := resp.Header.Get("X-Request-Id"); got != "metrics-create-1" {
		t.Fatalf("X-Request-Id = %q, want the one sent", got)
	}
	if last := s.openEvents(t, tok, task.ID).last(t); !isCompleted(last) {
		t.Fatalf("last event %s %s, want status completed", last.Name, last.Data)
	}

	m := scrape(t, s.url+"/metrics")
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"lepus_tasks_created_total", []string{"type", "face_swap"}, 1},
		{"lepus_tasks_ended_total", []string{"type", "face_swap", "status", "completed"}, 1},
		{"lepus_credits_debited_total", []string{"type", "face_swap"}, 4},
		{"lepus_task_queued_seconds", []string{"workflow", "face_swap", "provider", "kling"}, 1},
		{"lepus_task_provider_seconds", []string{"workflow", "face_swap", "provider", "kling"}, 1},
		{"lepus_task_collect_seconds", []string{"workflow", "face_swap", "provider", "kling"}, 1},
		{"lepus_task_total_seconds", []string{"workflow", "face_swap", "provider", "kling", "status", "completed"}, 1},
		{"lepus_http_requests_total", []string{"method", "POST", "route", "/kling/face-swap", "code", "202"}, 1},
		{"lepus_http_requests_total", []string{"method", "POST", "route", "/uploads", "code", "201"}, 2},
		{"lepus_http_requests_total", []string{"method", "GET", "route", "/tasks/{id}/events", "code", "200"}, 1},
		// The task ended, so its slots are free and nobody waits.
		{"lepus_provider_slots_in_use", []string{"pool", "kling:image"}, 0},
		{"lepus_provider_slot_waiting_tasks", []string{"pool", "kling:image"}, 0},
		{"lepus_provider_slots_capacity", []string{"pool", "kling:image"}, 10},
		{"lepus_queue_stats_up", nil, 1},
	} {
		if got, ok := m.Value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if n, _ := m.Value("lepus_provider_calls_total", "provider", "kling", "code", "200"); n < 2 {
		t.Errorf("kling calls answered 200: %v, want a submit and a poll at least", n)
	}
	if n, _ := m.Value("lepus_provider_calls_total", "provider", "kling", "endpoint", "POST /v1/images/omni-image"); n != 1 {
		t.Errorf("omni-image submits: %v, want 1", n)
	}
	for _, name := range []string{"lepus_queue_jobs", "go_goroutines", "process_resident_memory_bytes", "go_sql_open_connections"} {
		if _, ok := m.Value(name); !ok {
			t.Errorf("no %s", name)
		}
	}
}

// TestServe_LogFormat: a bad LEPUS_LOG_FORMAT stops the start, named.
func TestServe_LogFormat(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LEPUS_DATA_DIR": t.TempDir(), "LEPUS_ADDR": "127.0.0.1:0", "LEPUS_LOG_FORMAT": "xml"}
	if err := runOnce(t, "serve", env); err == nil || !strings.Contains(err.Error(), "LEPUS_LOG_FORMAT") {
		t.Fatalf("serve with LEPUS_LOG_FORMAT=xml: %v, want an error naming the variable", err)
	}
}

// jsonLog collects a process's log lines and signals each write.
type jsonLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{}
	done    bool
}

func (l *jsonLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.buf.Write(p)
		close(l.written)
		l.written = make(chan struct{})
	}
	return len(p), nil
}

// until waits for a log record matching ok and returns it; every line
// must be JSON.
func (l *jsonLog) until(t *testing.T, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		l.mu.Lock()
		text, written := l.buf.String(), l.written
		l.mu.Unlock()
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q", sc.Text())
			}
			if ok(rec) {
				return rec
			}
		}
		select {
		case <-written:
		case <-time.After(time.Minute): // a bound on a hang, not a wait
			t.Fatalf("no log line with %s in:\n%s", what, text)
		}
	}
}

// startLogged boots run([cmd]) like startRole, with its logs in a jsonLog.
func startLogged(t *testing.T, cmd string, env map[string]string) (*lepusServer, *jsonLog) {
	t.Helper()
	logs := &jsonLog{written: make(chan struct{})}
	// Registered before the server's: runs after it stopped.
	t.Cleanup(func() {
		logs.mu.Lock()
		logs.done = true
		logs.mu.Unlock()
	})
	return startRoleLogs(t, cmd, env, logs), logs
}

// TestServe_JSONLogs: with LEPUS_LOG_FORMAT=json every line is JSON, each
// request has an access line (method, route, status, duration, user,
// request id), the request id reaches the task's log lines, and River's
// housekeeping stays out of the info level.
func TestServe_JSONLogs(t *testing.T) {
	t.Parallel()
	s, logs := startLogged(t, "serve", map[string]string{"LEPUS_LOG_FORMAT": "json", "LEPUS_LOG_LEVEL": "info"})
	tok := s.token(t, "lou")
	task, _ := faceSwap(t, s, tok, "json-create-1")
	s.events(t, tok, task.ID)

	access := logs.until(t, "the create's access line", func(r map[string]any) bool {
		return r["msg"] == "http request" && r["request_id"] == "json-create-1"
	})
	for k, v := range map[string]any{"level": "INFO", "method": "POST", "route": "/kling/face-swap", "status": float64(202), "user_id": "lou"} {
		if access[k] != v {
			t.Errorf("access line %s = %v, want %v: %v", k, access[k], v, access)
		}
	}
	if _, ok := access["duration_ms"].(float64); !ok {
		t.Errorf("access line without duration_ms: %v", access)
	}
	logs.until(t, "the task's accepted line with the request id", func(r map[string]any) bool {
		return r["msg"] == "task accepted" && r["task_id"] == task.ID && r["request_id"] == "json-create-1"
	})
	logs.until(t, "the task's completed line with the request id", func(r map[string]any) bool {
		return r["msg"] == "task completed" && r["task_id"] == task.ID && r["request_id"] == "json-create-1"
	})
	logs.until(t, "an upload's access line with a generated request id", func(r map[string]any) bool {
		id, _ := r["request_id"].(string)
		return r["msg"] == "http request" && r["route"] == "/uploads" && len(id) == 32
	})
	logs.mu.Lock()
	text := logs.buf.String()
	logs.mu.Unlock()
	if strings.Contains(text, "River client started") || strings.Contains(text, `"level":"DEBUG"`) {
		t.Errorf("River's housekeeping or debug lines at info level:\n%s", text)
	}
}

// TestWorker_MetricsAddr: lepus worker, which has no API, serves /metrics
// on LEPUS_METRICS_ADDR, and counts the task it ran.
func TestWorker_MetricsAddr(t *testing.T) {
	t.Parallel()
	env, _ := liveKeys(t, map[string]string{"LEPUS_DATABASE_URL": sqlstoretest.PostgresSchema(t)})
	if err := runOnce(t, "migrate", env); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	addr := freeAddr(t) // for the worker's metrics listener
	wenv := map[string]string{"LEPUS_METRICS_ADDR": addr}
	for k, v := range env {
		wenv[k] = v
	}
	startRole(t, "worker", wenv)
	api := startRole(t, "api", env)
	tok := api.token(t, "wes")
	task, _ := faceSwap(t, api, tok, "worker-1")
	if last := api.openEvents(t, tok, task.ID).last(t); !isCompleted(last) {
		t.Fatalf("last event %s %s, want status completed", last.Name, last.Data)
	}
	// The API hears of the end at the worker's commit, maybe before the
	// worker counted it.
	w := waitScrape(t, "http://"+addr+"/metrics", "the completed face swap counted", func(s metricstest.Scrape) bool {
		n, _ := s.Value("lepus_tasks_ended_total", "type", "face_swap", "status", "completed")
		return n == 1
	})
	if n, _ := w.Value("lepus_provider_calls_total", "provider", "kling"); n < 2 {
		t.Errorf("worker's kling calls = %v", n)
	}
	a := scrape(t, api.url+"/metrics")
	if n, _ := a.Value("lepus_tasks_created_total", "type", "face_swap"); n != 1 {
		t.Errorf("api's tasks created = %v, want 1", n)
	}
}
