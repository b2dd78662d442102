package job_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/config"
	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/job/adapter"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
	"github.com/lepus-ai/lepus/internal/workflow"
)

const grant = 100

// bundle is a real Lepus engine on a real database, driving the provider
// sandbox over HTTP.
type bundle struct {
	store  *sqlstore.Store
	sb     *sandbox.Sandbox
	svc    *app.Service
	queue  *job.Client
	kinds  *job.Kinds
	inputs string // base URL serving /scene.png and /face.png
}

type options struct {
	dialect    string
	sandbox    func(*sandbox.Config)
	imageSlots int
	engine     func(*job.Engine) // adjusts the engine before its workers are registered
}

func setup(t *testing.T, o options) *bundle {
	t.Helper()
	ctx := context.Background()
	if o.dialect == "" {
		o.dialect = sqlstore.DialectSQLite
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, _ := sqlstoretest.Open(t, o.dialect)

	scfg := sandbox.Config{ImageLatency: 30 * time.Millisecond, VideoLatency: 50 * time.Millisecond}
	if o.sandbox != nil {
		o.sandbox(&scfg)
	}
	sb := sandbox.New(scfg)
	t.Cleanup(sb.Close)
	sbSrv := httptest.NewServer(sb)
	t.Cleanup(sbSrv.Close)

	mux := http.NewServeMux()
	for i, name := range []string{"/scene.png", "/face.png"} {
		body := sample.PortraitPNG(sample.Palettes[i], 400, 500)
		mux.HandleFunc(name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(body)
		})
	}
	inputs := httptest.NewServer(mux)
	t.Cleanup(inputs.Close)

	bucket, err := blob.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	fetcher := fetch.New(fetch.Config{AllowPrivate: true})
	workflows := workflow.NewRegistry(20 * time.Millisecond)
	hub := app.NewHub()
	kc := kling.NewClient(kling.Config{BaseURL: sbSrv.URL, AccessKey: "sandbox-ak", SecretKey: "sandbox-sk"})
	engine := &job.Engine{
		Store: store, Workflows: workflows, Blob: bucket, Fetch: fetcher,
		Providers: map[string]job.Provider{workflow.ProviderKling: adapter.NewKling(kc), workflow.ProviderLLM: adapter.NewLLM(nil)},
		Slots:     map[string]int{workflow.PoolKlingImage: max(o.imageSlots, 10), workflow.PoolKlingVideo: 10},
		Notify:    hub.Publish, RetryBase: 10 * time.Millisecond, Now: time.Now, Logger: logger,
	}
	if o.imageSlots > 0 {
		engine.Slots[workflow.PoolKlingImage] = o.imageSlots
	}
	if o.engine != nil {
		o.engine(engine)
	}
	workers := river.NewWorkers()
	kinds, err := job.Register(workers, engine, workflows, 0)
	if err != nil {
		t.Fatal(err)
	}
	queue, waker, err := job.NewClient(store.DB(), workers, job.QueueConfig{
		Dialect: store.Dialect(), Workers: 20, FetchPollInterval: 10 * time.Millisecond,
		RetryBase: 10 * time.Millisecond, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds.Sweeper.Client = queue
	engine.Waker = waker
	watcher := &job.Watcher{Store: store, Provider: workflow.ProviderKling, Lister: engine.Providers[workflow.ProviderKling].(job.Lister),
		Wake: waker.Wake, Interval: 10 * time.Millisecond, Logger: logger}
	engine.Watchers = map[string]*job.Watcher{workflow.ProviderKling: watcher}
	if err := job.Migrate(ctx, store.DB(), job.QueueConfig{Dialect: store.Dialect(), Logger: logger}); err != nil {
		t.Fatal(err)
	}
	if err := queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	watcher.Start(ctx)
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = queue.Stop(stopCtx)
		watcher.Stop()
		waker.Stop()
	})
	svc := &app.Service{
		Store: store, Workflows: workflows, Blob: bucket, Fetch: fetcher,
		Enqueue: kinds.Enqueue(queue), CancelJob: job.CancelTx(queue), Queue: engine,
		Costs: config.DefaultCosts(), Grant: grant, PublicURL: "http://lepus.test", Mode: "live",
		Hub: hub, Now: time.Now, Logger: logger,
	}
	return &bundle{store: store, sb: sb, svc: svc, queue: queue, kinds: kinds, inputs: inputs.URL}
}

func (b *bundle) faceSwap(t *testing.T, user string, video bool) *lepus.Task {
	t.Helper()
	task, _, err := b.svc.CreateTask(context.Background(), app.CreateTaskParams{
		UserID: user, Type: "face_swap",
		Request: &workflow.FaceSwapRequest{SourceImageURL: b.inputs + "/scene.png", FaceImageURL: b.inputs + "/face.png", GenerateVideo: video},
	})
	if err != nil {
		t.Fatalf("create face swap: %v", err)
	}
	return task
}

// waitEnded waits until the task reaches a terminal status.
func (b *bundle) waitEnded(t *testing.T, id string) *lepus.Task {
	t.Helper()
	return b.waitFor(t, id, "to end", func(t *lepus.Task) bool { return t.Status.Terminal() })
}

func (b *bundle) waitFor(t *testing.T, id, what string, cond func(*lepus.Task) bool) *lepus.Task {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		task, err := b.store.TaskGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(task) {
			return task
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s did not come %s: status %s step %s stages %+v", id, what, task.Status, task.Step, task.Stages)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *bundle) balance(t *testing.T, user string) int {
	t.Helper()
	n, err := b.store.CreditBalance(context.Background(), user, grant)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (b *bundle) job(t *testing.T, task *lepus.Task) (attempt, errs int) {
	t.Helper()
	j, err := b.queue.JobGet(context.Background(), task.JobID)
	if err != nil {
		t.Fatal(err)
	}
	return j.Attempt, len(j.Errors)
}

func requireStatus(t *testing.T, task *lepus.Task, want lepus.TaskStatus) {
	t.Helper()
	if task.Status != want {
		t.Fatalf("status = %s (error %+v, step %s), want %s", task.Status, task.Error, task.Step, want)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func ext(task *lepus.Task, stage string) string { return fmt.Sprintf("%s-%s", task.ID, stage) }
