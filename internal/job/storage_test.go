package job_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
)

// TestEngine_StorageOutage: a face swap the provider delivered while blob
// storage refuses writes keeps its result waiting, for many more failed
// writes than the stage's retry budget, and completes once storage is back:
// one submission, no refund.
func TestEngine_StorageOutage(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s3 := newFlakyS3(t)
			var bucket *blob.Store
			var maxRetries int
			b := setup(t, options{dialect: dialect, engine: func(e *job.Engine) {
				e.Blob = s3.open(t)
				bucket = e.Blob
				maxRetries = e.Workflows.Get("face_swap").Policy.MaxRetries
			}})
			// More failed writes than all of the stage's tries (1 + MaxRetries)
			// would have allowed before storage outages were retried apart.
			down := s3.failWrites(maxRetries + 3)
			task := b.faceSwap(t, "olga", false)
			select {
			case <-down:
			case <-time.After(90 * time.Second):
				t.Fatalf("storage saw %d failed writes, want %d", s3.failed.Load(), maxRetries+3)
			}
			b.waitFor(t, task.ID, "to wait on storage", func(t *lepus.Task) bool {
				return t.Stages[0].StorageFailingSince != nil
			})
			s3.recover()

			got := b.waitEnded(t, task.ID)
			requireStatus(t, got, lepus.StatusCompleted)
			t.Logf("%d failed writes before storage came back", s3.failed.Load())
			if n := b.sb.Submissions(ext(task, "image")); n != 1 {
				t.Fatalf("submissions = %d, want exactly 1", n)
			}
			st := got.Stages[0]
			if st.Retries != 0 || st.StorageFailingSince != nil {
				t.Fatalf("stage retries %d, storage failing since %v: a storage outage must cost no retry and be cleared",
					st.Retries, st.StorageFailingSince)
			}
			if len(got.Assets) != 1 {
				t.Fatalf("%d assets, want 1", len(got.Assets))
			}
			if ok, err := bucket.Exists(context.Background(), got.Assets[0].StorageKey); err != nil || !ok {
				t.Fatalf("stored result %s: exists %v, %v", got.Assets[0].StorageKey, ok, err)
			}
			if bal := b.balance(t, "olga"); bal != grant-got.Cost {
				t.Fatalf("balance = %d, want %d: a completed task is not refunded", bal, grant-got.Cost)
			}
		})
	}
}

// TestEngine_StorageUnavailable: storage never comes back; once it has
// been failing for longer than the workflow's time limit the task fails
// saying so, and the credits are refunded. The limit is lowered to a minute
// and the engine's clock is moved past it, instead of waiting.
func TestEngine_StorageUnavailable(t *testing.T) {
	t.Parallel()
	const limit = time.Minute
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s3 := newFlakyS3(t)
			var clock offsetClock
			b := setup(t, options{dialect: dialect, engine: func(e *job.Engine) {
				e.Blob = s3.open(t)
				e.Now = clock.Now
				e.Workflows.Get("face_swap").Policy.SoftLimit = limit
			}})
			down := s3.failWrites(2) // the outage's start is recorded
			task := b.faceSwap(t, "pia", false)
			select {
			case <-down:
			case <-time.After(90 * time.Second):
				t.Fatalf("storage saw %d failed writes, want 2", s3.failed.Load())
			}
			b.waitFor(t, task.ID, "to wait on storage", func(t *lepus.Task) bool {
				return t.Stages[0].StorageFailingSince != nil
			})
			clock.advance(2 * limit)

			got := b.waitEnded(t, task.ID)
			requireStatus(t, got, lepus.StatusFailed)
			if got.Error.Code != "storage_unavailable" || !strings.Contains(got.Error.Message, "storage was unavailable") {
				t.Fatalf("error = %+v, want storage_unavailable saying storage was unavailable", got.Error)
			}
			if n := b.sb.Submissions(ext(task, "image")); n != 1 {
				t.Fatalf("submissions = %d, want exactly 1", n)
			}
			requireRefundedOnce(t, b, "pia")
		})
	}
}

// flakyS3 is an S3 service (gofakes3) whose object writes can be refused.
// A refusal is 403 AccessDenied, which the AWS SDK does not retry itself,
// so each refused request is one failed write of the engine.
type flakyS3 struct {
	url    string
	failed atomic.Int64

	mu   sync.Mutex
	down bool
	want int64
	hit  chan struct{} // closed once want writes were refused
}

func newFlakyS3(t *testing.T) *flakyS3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("lepus"); err != nil {
		t.Fatal(err)
	}
	f := &flakyS3{}
	fake := gofakes3.New(backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			if f.refuse() {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>storage is down</Message></Error>`))
				return
			}
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// open opens the bucket with anonymous credentials, so no AWS environment
// (and no t.Setenv) is needed.
func (f *flakyS3) open(t *testing.T) *blob.Store {
	t.Helper()
	s, err := blob.Open(context.Background(),
		"s3://lepus?endpoint="+f.url+"&use_path_style=true&region=us-east-1&disable_https=true&anonymous=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// failWrites refuses every write from now on; the channel is closed once n
// writes were refused.
func (f *flakyS3) failWrites(n int) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down, f.want, f.hit = true, f.failed.Load()+int64(n), make(chan struct{})
	return f.hit
}

func (f *flakyS3) recover() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = false
}

func (f *flakyS3) refuse() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		return false
	}
	if f.failed.Add(1) == f.want {
		close(f.hit)
	}
	return true
}

// offsetClock is the wall clock moved forward by the test.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *offsetClock) advance(d time.Duration) { c.offset.Add(int64(d)) }
