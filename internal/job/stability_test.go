package job_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/job/adapter"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/stability"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// TestStabilityProvider_PollSpacing runs a relight through the real engine
// with polls overridden to 10 ms (as LEPUS_POLL_INTERVAL does) against a
// Stability that answers 429 to requests closer than its spacing (and fails
// one poll with a 500, which is retried), and checks that every request
// about the result came at least the provider's floor after the one before. The floor is lowered to 200 ms through the
// test hook so the test is quick; time only ever widens the gaps it checks.
// Not parallel: it sets the process-wide hook (restored at the end). The
// adapter's own 10 s default is tested in internal/job/adapter.
func TestStabilityProvider_PollSpacing(t *testing.T) {
	const floor = 200 * time.Millisecond
	adapter.SetStabilityMinPollForTests(floor)
	t.Cleanup(func() { adapter.SetStabilityMinPollForTests(0) })

	sb := sandbox.New(sandbox.Config{RelightLatency: 3 * floor, StabilityMinPoll: floor})
	t.Cleanup(sb.Close)
	var mu sync.Mutex
	var polls []time.Time
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2beta/results/") {
			mu.Lock()
			polls = append(polls, time.Now())
			n := len(polls)
			mu.Unlock()
			if n == 2 {
				// A failed poll: its retry must keep the spacing too.
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"id":"e1","name":"internal_error","errors":["try again"]}`))
				return
			}
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(provider.Close)
	svc, store := stabilityEngine(t, provider.URL)

	task, _, err := svc.CreateTask(context.Background(), app.CreateTaskParams{UserID: "rita", Type: "enhance_style",
		Request: &workflow.RelightRequest{ImageURL: imageServer(t) + "/scene.png"}})
	if err != nil {
		t.Fatalf("create relight: %v", err)
	}
	done := (&bundle{store: store}).waitEnded(t, task.ID)
	requireStatus(t, done, lepus.StatusCompleted)

	mu.Lock()
	defer mu.Unlock()
	if len(polls) < 4 { // a poll in progress, a failed one, one done, one fetch
		t.Fatalf("%d requests about the result; want at least 3", len(polls))
	}
	// A tenth of slack for the requests' way to the server; a request that
	// ignored the floor comes within milliseconds.
	for i := 1; i < len(polls); i++ {
		if gap := polls[i].Sub(polls[i-1]); gap < floor*9/10 {
			t.Fatalf("request %d came %s after the one before; want at least %s", i, gap, floor)
		}
	}
	if st := sb.Stats(); st.RelightRateLimited != 0 {
		t.Fatalf("Stability refused %d polls as too frequent", st.RelightRateLimited)
	}
}

// stabilityEngine is the engine test bundle (a real engine and queue on
// SQLite) with Stability at baseURL.
func stabilityEngine(t *testing.T, baseURL string) (*app.Service, *sqlstore.Store) {
	t.Helper()
	b := setup(t, options{engine: func(e *job.Engine) {
		sc := stability.NewClient(stability.Config{BaseURL: baseURL, APIKey: "sandbox-stability-key"})
		e.Providers[workflow.ProviderStability] = adapter.NewStability(sc, e.Fetch)
	}})
	return b.svc, b.store
}

// imageServer serves a portrait at /scene.png.
func imageServer(t *testing.T) string {
	t.Helper()
	body := sample.PortraitPNG(sample.Palettes[0], 400, 500)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
