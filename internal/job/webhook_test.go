package job_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
	"github.com/lepus-ai/lepus/internal/webhook"
)

// webhookSetup is a migrated store with an insert-only queue client and
// the webhook hook set, and a task with a webhook on every event.
func webhookSetup(t *testing.T, dialect string, url string) (*sqlstore.Store, *job.Client, *lepus.Task) {
	t.Helper()
	ctx := context.Background()
	store, _ := sqlstoretest.Open(t, dialect)
	logger := slog.New(slog.DiscardHandler)
	if err := job.Migrate(ctx, store.DB(), job.QueueConfig{Dialect: store.Dialect(), Logger: logger}); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	job.RegisterWebhooks(workers, &job.WebhookWorker{})
	client, _, err := job.NewClient(store.DB(), workers, job.QueueConfig{Dialect: store.Dialect(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	store.SetWebhookHook(job.WebhookHook(client, func(t *lepus.Task) any { return map[string]string{"id": t.ID, "status": string(t.Status)} }))
	task, _, err := store.TaskCreate(ctx, &lepus.TaskCreateParams{Grant: 100, Task: &lepus.Task{
		ID: "tsk_wh", UserID: "u1", Type: "face_swap", Cost: 4, WebhookURL: url, WebhookEvents: lepus.WebhookEvents}})
	if err != nil {
		t.Fatal(err)
	}
	return store, client, task
}

func webhookJobs(t *testing.T, c *job.Client) []*rivertype.JobRow {
	t.Helper()
	res, err := c.JobList(context.Background(), river.NewJobListParams().Kinds("webhook_delivery").First(100))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

// TestWebhookHook: an event recorded twice is one delivery job, on the
// webhook queue, with a day's worth of attempts and the envelope payload.
func TestWebhookHook(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store, client, task := webhookSetup(t, dialect, "https://example.com/hook")
			task.Status = lepus.StatusProcessing
			if err := store.TaskSave(ctx, task); err != nil {
				t.Fatal(err)
			}
			// The same event again (a re-run's duplicate) adds no job.
			hook := job.WebhookHook(client, func(t *lepus.Task) any { return t.ID })
			tx, err := store.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := hook(ctx, tx, &lepus.WebhookEvent{Type: lepus.WebhookStart, Task: task, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if _, err := store.TaskFinish(ctx, &lepus.TaskFinishParams{ID: task.ID, Status: lepus.StatusFailed}); err != nil {
				t.Fatal(err)
			}
			jobs := webhookJobs(t, client)
			if len(jobs) != 2 {
				t.Fatalf("%d delivery jobs, want 2 (start, completed)", len(jobs))
			}
			types := map[string]bool{}
			for _, j := range jobs {
				var a job.WebhookArgs
				if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
					t.Fatal(err)
				}
				var p struct {
					Type      string
					Timestamp time.Time
					Data      struct{ ID, Status string }
				}
				if err := json.Unmarshal(a.Payload, &p); err != nil {
					t.Fatal(err)
				}
				types[p.Type] = true
				if j.Queue != job.WebhookQueue || j.MaxAttempts != webhook.MaxAttempts || a.URL != "https://example.com/hook" ||
					a.TaskID != task.ID || a.UserID != "u1" || p.Data.ID != task.ID || p.Timestamp.IsZero() || a.MessageID == "" {
					t.Fatalf("job %+v args %+v payload %+v", j, a, p)
				}
				if p.Type == "task.completed" && p.Data.Status != "failed" {
					t.Fatalf("completed payload status %q", p.Data.Status)
				}
			}
			if !types["task.start"] || !types["task.completed"] {
				t.Fatalf("payload types %v", types)
			}
		})
	}
}

// TestWebhookWorker_Work: a refused attempt is an error (River retries it
// on the webhook schedule), every attempt is signed and recorded.
func TestWebhookWorker_Work(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type request struct {
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var reqs []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		reqs = append(reqs, request{r.Header.Clone(), body})
		if len(reqs) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	store, _, task := webhookSetup(t, sqlstore.DialectSQLite, srv.URL)
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w := &job.WebhookWorker{Store: store, Sender: webhook.NewSender(fetch.New(fetch.Config{AllowPrivate: true}), webhook.Config{}),
		RetryBase: time.Minute, Now: func() time.Time { return clock }, Logger: slog.New(slog.DiscardHandler)}
	args := job.WebhookArgs{TaskID: task.ID, UserID: "u1", Event: lepus.WebhookCompleted, MessageID: "msg_x", URL: srv.URL, Payload: json.RawMessage(`{"type":"task.completed"}`)}
	run := func(attempt int) error {
		return w.Work(ctx, &river.Job[job.WebhookArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: webhook.MaxAttempts}, Args: args})
	}
	if err := run(1); err == nil {
		t.Fatal("a 503 answer was taken as delivered")
	}
	if err := run(2); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	got, err := store.TaskGet(ctx, task.ID)
	if err != nil || len(got.WebhookAttempts) != 2 {
		t.Fatalf("attempts %+v, %v", got.WebhookAttempts, err)
	}
	if a := got.WebhookAttempts[0]; a.StatusCode != 503 || a.Attempt != 1 || a.Error == "" || a.MessageID != "msg_x" {
		t.Fatalf("first attempt %+v", a)
	}
	if a := got.WebhookAttempts[1]; a.StatusCode != 200 || a.Attempt != 2 || a.Error != "" {
		t.Fatalf("second attempt %+v", a)
	}
	secret, err := store.WebhookSecretGet(ctx, "u1", "whsec_unused")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range reqs {
		sec, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := webhook.Sign(secret, r.header.Get("webhook-id"), time.Unix(sec, 0), r.body)
		if got := r.header.Get("webhook-signature"); got != want || r.header.Get("webhook-id") != "msg_x" {
			t.Fatalf("signature %q, want %q", got, want)
		}
	}
	for attempt, want := range map[int]time.Duration{1: time.Minute, 2: 60 * time.Minute, 7: 7200 * time.Minute, 9: 7200 * time.Minute} {
		next := w.NextRetry(&river.Job[job.WebhookArgs]{JobRow: &rivertype.JobRow{Attempt: attempt}})
		if !next.Equal(clock.Add(want)) {
			t.Fatalf("retry after attempt %d at %s, want %s (%s after now)", attempt, next, clock.Add(want), want)
		}
	}
}

// TestWebhookWorker_ForbiddenAddress: an address the SSRF guard refuses
// cancels the delivery at once (every retry would be refused alike), and
// the attempt is recorded with the public reason.
func TestWebhookWorker_ForbiddenAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	store, _, task := webhookSetup(t, sqlstore.DialectSQLite, srv.URL)
	w := &job.WebhookWorker{Store: store, Sender: webhook.NewSender(fetch.New(fetch.Config{}), webhook.Config{}),
		Logger: slog.New(slog.DiscardHandler)}
	args := job.WebhookArgs{TaskID: task.ID, UserID: "u1", Event: lepus.WebhookCompleted, MessageID: "msg_f", URL: srv.URL, Payload: json.RawMessage(`{}`)}
	err := w.Work(ctx, &river.Job[job.WebhookArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: webhook.MaxAttempts}, Args: args})
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) || !errors.Is(err, fetch.ErrForbiddenAddress) {
		t.Fatalf("Work = %v, want a JobCancel of the forbidden address", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the receiver on loopback was reached %d times", n)
	}
	got, err := store.TaskGet(ctx, task.ID)
	if err != nil || len(got.WebhookAttempts) != 1 {
		t.Fatalf("attempts %+v, %v", got.WebhookAttempts, err)
	}
	if a := got.WebhookAttempts[0]; a.Attempt != 1 || a.StatusCode != 0 || !strings.Contains(a.Error, "not allowed") || strings.Contains(a.Error, "127.0.0.1") {
		t.Fatalf("attempt %+v", a)
	}
}
