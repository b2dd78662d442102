package adapter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/stability"
)

// TestStabilityProvider_DefaultFloor: without the test hook a Stability
// stage polls 10 s apart and its result is fetched 10 s after the last
// poll, even when the workflow asks for faster polls (LEPUS_POLL_INTERVAL).
// Nothing in this package sets the test hook, so it runs in parallel.
func TestStabilityProvider_DefaultFloor(t *testing.T) {
	t.Parallel()
	if StabilityMinPoll != 10*time.Second {
		t.Fatalf("StabilityMinPoll = %s, want 10s", StabilityMinPoll)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("finish-reason", "SUCCESS")
		_, _ = w.Write([]byte("png"))
	}))
	t.Cleanup(srv.Close)
	p := NewStability(stability.NewClient(stability.Config{BaseURL: srv.URL, APIKey: "k"}), fetch.New(fetch.Config{AllowPrivate: true}))
	st := &lepus.Stage{Name: "image", ProviderTaskID: "abc", PollInterval: time.Second}
	res, err := p.Poll(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if st.PollInterval != 10*time.Second || res.RetrieveAfter != 10*time.Second {
		t.Fatalf("poll interval %s, retrieve after %s; want 10s and 10s", st.PollInterval, res.RetrieveAfter)
	}
}
