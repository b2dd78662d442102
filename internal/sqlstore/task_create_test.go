package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func (su suite) testTaskCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		in := newTask("tsk_1", "u1")
		var sawRow int
		got, created, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{
			Task: in, Grant: 100,
			Enqueue: func(ctx context.Context, tx *sql.Tx, task *lepus.Task) (int64, error) {
				// The job is inserted first, in the transaction: the task
				// row follows, written once with the job id.
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM task WHERE id = $1`, task.ID).Scan(&sawRow); err != nil {
					return 0, err
				}
				return 77, nil
			},
		})
		if err != nil || !created {
			t.Fatalf("TaskCreate = %v, created %v", err, created)
		}
		if sawRow != 0 {
			t.Fatalf("Enqueue saw %d task rows in its tx, want none yet", sawRow)
		}
		if got.Status != lepus.StatusPending || got.JobID != 77 || !got.CreatedAt.Equal(us(t0)) {
			t.Fatalf("created task = status %q job %d created %v", got.Status, got.JobID, got.CreatedAt)
		}
		if in.JobID != 0 || in.Status != "" {
			t.Fatalf("TaskCreate modified the caller's task: %+v", in)
		}
		stored, err := s.TaskGet(ctx, "tsk_1")
		if err != nil {
			t.Fatalf("TaskGet: %v", err)
		}
		if stored.JobID != 77 || stored.UserID != "u1" || stored.Type != "image" || stored.Cost != 10 ||
			stored.CallbackToken != "cb_tsk_1" || stored.RequestHash != "hash-1" ||
			stored.Status != lepus.StatusPending || stored.StartedAt != nil || stored.FinishedAt != nil ||
			stored.Error != nil || !stored.CreatedAt.Equal(us(t0)) || stored.CreatedAt.Location() != time.UTC {
			t.Fatalf("stored task = %+v", stored)
		}
		if !jsonEq(t, stored.Input, in.Input) || !jsonEq(t, stored.Stages, in.Stages) || !jsonEq(t, stored.Notes, in.Notes) {
			t.Fatalf("stored JSON = input %s stages %+v notes %v", stored.Input, stored.Stages, stored.Notes)
		}
		if b := balance(t, s, "u1", 0); b != 90 {
			t.Fatalf("balance = %d, want 90", b)
		}
		if got := ledgerKinds(t, s, "u1"); got != "debit:-10 grant:100" {
			t.Fatalf("ledger = %q", got)
		}
	})

	t.Run("RequestID", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		in := newTask("tsk_r", "u1")
		in.RequestID = "req-0123"
		if _, _, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: in, Grant: 100}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: newTask("tsk_none", "u1"), Grant: 100}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]string{"tsk_r": "req-0123", "tsk_none": ""} {
			got, err := s.TaskGet(ctx, id)
			if err != nil || got.RequestID != want {
				t.Fatalf("TaskGet(%s) = request id %q, %v; want %q", id, got.RequestID, err, want)
			}
		}
	})

	t.Run("IdempotentSameRequest", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		p := func(id, hash string) *lepus.TaskCreateParams {
			task := newTask(id, "u1")
			task.IdempotencyKey, task.RequestHash = "key-1", hash
			return &lepus.TaskCreateParams{Task: task, Grant: 100,
				Enqueue: func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 5, nil }}
		}
		first, created, err := s.TaskCreate(ctx, p("tsk_a", "h1"))
		if err != nil || !created {
			t.Fatalf("first create: %v, created %v", err, created)
		}
		again, created, err := s.TaskCreate(ctx, p("tsk_b", "h1"))
		if err != nil || created || again.ID != first.ID || again.JobID != 5 {
			t.Fatalf("repeat create = %+v, created %v, err %v; want task %s", again, created, err, first.ID)
		}
		_, _, err = s.TaskCreate(ctx, p("tsk_c", "h2"))
		wantCode(t, err, lepus.EConflict)
		// The repeats' writes were rolled back: no task, no second debit.
		for _, id := range []string{"tsk_b", "tsk_c"} {
			_, err := s.TaskGet(ctx, id)
			wantCode(t, err, lepus.ENotFound)
		}
		if got := ledgerKinds(t, s, "u1"); got != "debit:-10 grant:100" {
			t.Fatalf("ledger = %q", got)
		}
		// The key is per user.
		other := newTask("tsk_d", "u2")
		other.IdempotencyKey = "key-1"
		create(t, s, other, 100)
	})

	t.Run("IdempotentRace", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		const n = 8
		var (
			wg      sync.WaitGroup
			created atomic.Int32
			ids     [n]string
			errs    [n]error
		)
		for i := range n {
			wg.Go(func() {
				task := newTask(fmt.Sprintf("tsk_%d", i), "u1")
				task.IdempotencyKey = "same-key"
				task.CallbackToken = fmt.Sprintf("cb_%d", i)
				got, c, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: task, Grant: 100,
					Enqueue: func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 1, nil }})
				errs[i] = err
				if err == nil {
					ids[i] = got.ID
					if c {
						created.Add(1)
					}
				}
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("create %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("create %d returned task %s, create 0 returned %s", i, ids[i], ids[0])
			}
		}
		if created.Load() != 1 {
			t.Fatalf("%d creates reported created=true, want 1", created.Load())
		}
		if b := balance(t, s, "u1", 0); b != 90 {
			t.Fatalf("balance = %d, want 90 (one debit)", b)
		}
	})

	t.Run("ErrInsufficientCredits", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		task := newTask("tsk_1", "u1")
		task.Cost = 30
		_, _, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: task, Grant: 10})
		wantCode(t, err, lepus.ECredits)
		if msg := lepus.ErrorMessage(err); msg != "insufficient credits: balance 10, cost 30" {
			t.Fatalf("message = %q", msg)
		}
		_, err = s.TaskGet(ctx, "tsk_1")
		wantCode(t, err, lepus.ENotFound)
		if b := balance(t, s, "u1", 999); b != 999 {
			t.Fatalf("an account was opened despite the rollback: balance %d", b)
		}
		// With an existing account the message shows its balance.
		small := newTask("tsk_2", "u1")
		small.Cost = 8
		create(t, s, small, 10)
		task.ID, task.CallbackToken = "tsk_3", "cb_3"
		_, _, err = s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: task, Grant: 10})
		if msg := lepus.ErrorMessage(err); msg != "insufficient credits: balance 2, cost 30" {
			t.Fatalf("message = %q (%v)", msg, err)
		}
	})

	t.Run("ErrEnqueueWritesNothing", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		boom := errors.New("queue down")
		_, _, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: newTask("tsk_1", "u1"), Grant: 100,
			Enqueue: func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 0, boom }})
		if !errors.Is(err, boom) {
			t.Fatalf("error = %v, want the Enqueue error", err)
		}
		_, err = s.TaskGet(ctx, "tsk_1")
		wantCode(t, err, lepus.ENotFound)
		if b := balance(t, s, "u1", 999); b != 999 {
			t.Fatalf("balance = %d: the account or debit survived the failed enqueue", b)
		}
		if got := ledgerKinds(t, s, "u1"); got != "" {
			t.Fatalf("ledger = %q, want empty", got)
		}
	})

	t.Run("FreeTask", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		task := newTask("tsk_1", "u1")
		task.Cost = 0
		create(t, s, task, 50)
		if got := ledgerKinds(t, s, "u1"); got != "grant:50" {
			t.Fatalf("ledger = %q, want only the grant", got)
		}
		zero := newTask("tsk_2", "u2")
		zero.Cost = 0
		create(t, s, zero, 0)
		if got := ledgerKinds(t, s, "u2"); got != "" {
			t.Fatalf("ledger = %q, want empty for a zero grant and cost", got)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		noID := newTask("", "u1")
		_, _, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: noID})
		wantCode(t, err, lepus.EInvalid)
		badJSON := newTask("tsk_1", "u1")
		badJSON.Input = []byte(`{"prompt":`)
		_, _, err = s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: badJSON, Grant: 100})
		wantCode(t, err, lepus.EInvalid)
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		sameToken := newTask("tsk_2", "u1")
		sameToken.CallbackToken = "cb_tsk_1"
		_, _, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: sameToken, Grant: 100})
		wantCode(t, err, lepus.EConflict)
		_, _, err = s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: newTask("tsk_1", "u1"), Grant: 100})
		wantCode(t, err, lepus.EConflict)
		if b := balance(t, s, "u1", 0); b != 90 {
			t.Fatalf("balance = %d, want 90: a failed create kept its debit", b)
		}
	})
}
