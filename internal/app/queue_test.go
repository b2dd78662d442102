package app_test

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lepus-ai/lepus/internal/app/apptest"
	"github.com/lepus-ai/lepus/internal/lepus"
)

// recQueue records what the service asks of the queue.
type recQueue struct {
	mu    sync.Mutex
	calls []string
}

func (q *recQueue) add(s string) { q.mu.Lock(); q.calls = append(q.calls, s); q.mu.Unlock() }
func (q *recQueue) Wake(_ context.Context, ids ...int64) {
	for _, id := range ids {
		q.add("wake " + strconv.FormatInt(id, 10))
	}
}
func (q *recQueue) Kick(context.Context)     { q.add("kick") }
func (q *recQueue) Handover(context.Context) { q.add("handover") }
func (q *recQueue) CalledBack(_ context.Context, t *lepus.Task) {
	q.add("called back " + strconv.FormatInt(t.JobID, 10))
}

// take returns the calls so far and forgets them.
func (q *recQueue) take() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := strings.Join(q.calls, ", ")
	q.calls = nil
	return s
}

// The service's queue seams: a create inserts the job in its transaction
// and kicks the workers; a callback is handed to the queue (a hint only); a cancel
// cancels the job in its transaction and hands the slots over.
func TestService_Queue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.New(t)
	q := &recQueue{}
	b.Service.Queue = q
	b.Service.Enqueue = func(_ context.Context, tx *sql.Tx, task *lepus.Task) (int64, error) {
		if tx == nil || task.ID == "" {
			t.Errorf("Enqueue(tx %v, task %q): want the create transaction and the task", tx, task.ID)
		}
		q.add("enqueue")
		return 7, nil
	}
	var canceled []int64
	b.Service.CancelJob = func(_ context.Context, tx *sql.Tx, jobID int64) error {
		canceled = append(canceled, jobID)
		return nil
	}

	task, _, err := b.Service.CreateTask(ctx, textToVideo("ana", "k1", "a cat"))
	if err != nil || task.JobID != 7 {
		t.Fatalf("create: job %v, %v; want job 7", task, err)
	}
	if got := q.take(); got != "enqueue, kick" {
		t.Fatalf("a create asked the queue for %q", got)
	}
	if _, _, err := b.Service.CreateTask(ctx, textToVideo("ana", "k1", "a cat")); err != nil {
		t.Fatal(err)
	}
	if got := q.take(); got != "" {
		t.Fatalf("a replay asked the queue for %q, want nothing", got)
	}

	err = b.Service.HandleKlingCallback(ctx, "no-such-token", strings.NewReader(`{"task_id":"k"}`))
	wantError(t, err, lepus.ENotFound, "")
	err = b.Service.HandleKlingCallback(ctx, task.CallbackToken, strings.NewReader(`{"task_status":"succeed"}`))
	wantError(t, err, lepus.EInvalid, "body")
	if err := b.Service.HandleKlingCallback(ctx, task.CallbackToken, strings.NewReader(`{"task_id":"k","task_status":"succeed"}`)); err != nil {
		t.Fatal(err)
	}
	if got := q.take(); got != "called back 7" {
		t.Fatalf("callbacks asked the queue for %q, want one called back for job 7", got)
	}

	if _, err := b.Service.CancelTask(ctx, "ana", task.ID); err != nil {
		t.Fatal(err)
	}
	if got := q.take(); got != "handover" || !slices.Equal(canceled, []int64{7}) {
		t.Fatalf("a cancel asked the queue for %q and canceled jobs %v, want a handover and job 7", got, canceled)
	}
	if err := b.Service.HandleKlingCallback(ctx, task.CallbackToken, strings.NewReader(`{"task_id":"k"}`)); err != nil {
		t.Fatal(err)
	}
	if got := q.take(); got != "" {
		t.Fatalf("a callback for an ended task asked the queue for %q", got)
	}
}

// The webhook secret is made on first read and replaced by a rotation.
func TestService_WebhookSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.New(t)
	first, err := b.Service.WebhookSecret(ctx, "ana")
	if err != nil || first == "" {
		t.Fatalf("secret %q, %v", first, err)
	}
	if again, _ := b.Service.WebhookSecret(ctx, "ana"); again != first {
		t.Fatalf("a second read gave %q, want %q", again, first)
	}
	rotated, err := b.Service.RotateWebhookSecret(ctx, "ana")
	if err != nil || rotated == first {
		t.Fatalf("rotated %q (%v), want a new secret", rotated, err)
	}
	if now, _ := b.Service.WebhookSecret(ctx, "ana"); now != rotated {
		t.Fatalf("after a rotation the secret is %q, want %q", now, rotated)
	}
}
