package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/metrics/metricstest"
)

// scrape serves m's handler once and parses the answer.
func scrape(t *testing.T, m *Metrics) metricstest.Scrape {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return metricstest.Parse(t, rec.Body)
}

func want(t *testing.T, s metricstest.Scrape, v float64, name string, labels ...string) {
	t.Helper()
	if got, _ := s.Value(name, labels...); got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

func TestEndpointNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ method, path, want string }{
		{"POST", "/v1/images/omni-image", "POST /v1/images/omni-image"},
		{"POST", "/v1/videos/image2video", "POST /v1/videos/image2video"},
		{"POST", "/v1/images/multi-image2image", "POST /v1/images/multi-image2image"},
		{"GET", "/v1/videos/omni-video/861234567890123456", "GET /v1/videos/omni-video/{id}"},
		{"GET", "/v1/videos/omni-video/tsk_abc12de-video", "GET /v1/videos/omni-video/{id}"},
		{"GET", "/v1/videos/omni-video", "GET /v1/videos/omni-video"},
		{"POST", "/v2beta/stable-image/edit/replace-background-and-relight", "POST /v2beta/stable-image/edit/replace-background-and-relight"},
		{"GET", "/v2beta/results/" + "3f2a9c0d1e4b5a6f7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "GET /v2beta/results/{id}"},
		{"GET", "/v2beta/results/a1b2c3", "GET /v2beta/results/{id}"},
		{"POST", "/ark/api/v3/images/generations", "POST /ark/api/v3/images/generations"},
		{"POST", "/llm/v1/chat/completions", "POST /llm/v1/chat/completions"},
	} {
		var e endpointNames
		if got := e.name("p", tc.method, tc.path); got != tc.want {
			t.Errorf("name(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
	t.Run("Bounded", func(t *testing.T) {
		t.Parallel()
		var e endpointNames
		for i := range maxEndpoints {
			e.name("p", "GET", "/x/word"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		}
		if got := e.name("p", "GET", "/x/another"); got != "other" {
			t.Fatalf("endpoint past the bound = %q, want other", got)
		}
		if got := e.name("q", "GET", "/x/another"); got != "GET /x/another" {
			t.Fatalf("another provider's endpoint = %q", got)
		}
	})
}

func TestProviderTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/videos/omni-video/123456789" {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	m := New()
	c := &http.Client{Transport: m.ProviderTransport("kling", nil)}
	for _, path := range []string{"/v1/videos/omni-video", "/v1/videos/omni-video?pageNum=1", "/v1/videos/omni-video/123456789"} {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close()
	if _, err := c.Get(srv.URL + "/v1/videos/omni-video"); err == nil {
		t.Fatal("a closed server answered")
	}
	s := scrape(t, m)
	want(t, s, 2, "lepus_provider_calls_total", "provider", "kling", "endpoint", "GET /v1/videos/omni-video", "code", "200")
	want(t, s, 1, "lepus_provider_calls_total", "provider", "kling", "endpoint", "GET /v1/videos/omni-video/{id}", "code", "429")
	want(t, s, 1, "lepus_provider_calls_total", "provider", "kling", "code", "error")
	want(t, s, 4, "lepus_provider_call_seconds", "provider", "kling")
}

func TestMetrics_TaskLifecycle(t *testing.T) {
	t.Parallel()
	m := New()
	at := func(s float64) *time.Time {
		v := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second)))
		return &v
	}
	task := func(id string, status lepus.TaskStatus) *lepus.Task {
		return &lepus.Task{ID: id, Type: "face_swap", Status: status, Cost: 14,
			CreatedAt: *at(0), StartedAt: at(2), FinishedAt: at(40),
			Stages: []lepus.Stage{
				{Name: "enhance", Provider: "llm", Sync: true},
				{Name: "image", Provider: "kling", Polls: 3, SubmittedAt: at(3), ProviderDoneAt: at(13)},
				{Name: "video", Provider: "kling", Polls: 2, SubmittedAt: at(15), ProviderDoneAt: at(35)},
			},
			Assets: []lepus.Asset{{Stage: "image", CreatedAt: *at(14)}, {Stage: "video", CreatedAt: *at(38)}},
		}
	}
	done := task("t1", lepus.StatusCompleted)
	m.TaskCreated(done)
	m.TaskEnded(done, 4) // a completed task with a failed part: 4 back
	failed := task("t2", lepus.StatusFailed)
	failed.Stages[2].SubmittedAt, failed.Stages[2].ProviderDoneAt, failed.Assets = nil, nil, failed.Assets[:1]
	m.TaskCreated(failed)
	m.TaskEnded(failed, 0)
	var nilM *Metrics // components built without metrics
	nilM.TaskCreated(done)
	nilM.TaskEnded(done, 0)

	s := scrape(t, m)
	want(t, s, 2, "lepus_tasks_created_total", "type", "face_swap")
	want(t, s, 1, "lepus_tasks_ended_total", "type", "face_swap", "status", "completed")
	want(t, s, 1, "lepus_tasks_ended_total", "type", "face_swap", "status", "failed")
	want(t, s, 28, "lepus_credits_debited_total", "type", "face_swap")
	want(t, s, 4+14, "lepus_credits_refunded_total", "type", "face_swap")
	// Task-wide times carry the main provider (kling), not the LLM prelude.
	want(t, s, 2, "lepus_task_queued_seconds", "workflow", "face_swap", "provider", "kling")
	want(t, s, 1, "lepus_task_total_seconds", "workflow", "face_swap", "provider", "kling", "status", "completed")
	want(t, s, 3, "lepus_task_provider_seconds", "workflow", "face_swap", "provider", "kling")
	want(t, s, 3, "lepus_task_collect_seconds", "workflow", "face_swap", "provider", "kling")
	want(t, s, 10, "lepus_task_polls_total", "workflow", "face_swap", "provider", "kling")
	if h := s["lepus_task_provider_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleSum() != 10+20+10 {
		t.Errorf("provider seconds sum = %v, want 40", h.GetSampleSum())
	}
	if h := s["lepus_task_collect_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleSum() != 1+3+1 {
		t.Errorf("collect seconds sum = %v, want 5", h.GetSampleSum())
	}
}

func TestMetrics_Listen(t *testing.T) {
	t.Parallel()
	m := New()
	m.HTTPRequest("GET", "/x", 200, time.Millisecond)
	addr, stop, err := m.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s := metricstest.Parse(t, resp.Body)
	want(t, s, 1, "lepus_http_requests_total", "route", "/x", "code", "200")
	if _, ok := s.Value("process_cpu_seconds_total"); !ok {
		t.Error("no process metrics")
	}
}
