package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func (su suite) testTaskGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AssetsOrdered", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		for _, k := range []struct {
			stage string
			idx   int
		}{{"video", 0}, {"image", 1}, {"image", 0}} {
			if _, err := s.AssetUpsert(ctx, &lepus.Asset{TaskID: "tsk_1", UserID: "u1", Stage: k.stage, Index: k.idx,
				Kind: lepus.AssetImage, StorageKey: k.stage}); err != nil {
				t.Fatalf("AssetUpsert: %v", err)
			}
		}
		for _, get := range []func() (*lepus.Task, error){
			func() (*lepus.Task, error) { return s.TaskGet(ctx, "tsk_1") },
			func() (*lepus.Task, error) { return s.TaskGetByCallbackToken(ctx, "cb_tsk_1") },
		} {
			task, err := get()
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			var order []string
			for _, a := range task.Assets {
				order = append(order, a.Stage+string(rune('0'+a.Index)))
			}
			if got := len(order); got != 3 || order[0] != "image0" || order[1] != "image1" || order[2] != "video0" {
				t.Fatalf("asset order = %v, want [image0 image1 video0]", order)
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		_, err := s.TaskGet(ctx, "nope")
		wantCode(t, err, lepus.ENotFound)
		_, err = s.TaskGetByCallbackToken(ctx, "nope")
		wantCode(t, err, lepus.ENotFound)
		_, err = s.TaskGetByCallbackToken(ctx, "")
		wantCode(t, err, lepus.ENotFound)
	})
}

func (su suite) testTaskSave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s, clock := su.open(t, 0)
		task := create(t, s, newTask("tsk_1", "u1"), 100)
		clock.Set(t0.Add(time.Minute))
		started := t0.Add(30 * time.Second)
		submitted := t0.Add(40 * time.Second)
		task.Status, task.Progress, task.Step = lepus.StatusProcessing, 40, "image.wait"
		task.StartedAt = &started
		task.Stages[0].Phase = lepus.PhaseWait
		task.Stages[0].ExternalID = "ext-1"
		task.Stages[0].Request = json.RawMessage(`{"model_name":"kling-v2","prompt":"a hare"}`)
		task.Stages[0].SubmittedAt = &submitted
		task.Stages[0].SubmitAttempts = 1
		task.AddNote("submitted")
		if err := s.TaskSave(ctx, task); err != nil {
			t.Fatalf("TaskSave: %v", err)
		}
		if !task.UpdatedAt.Equal(us(t0.Add(time.Minute))) {
			t.Fatalf("UpdatedAt = %v", task.UpdatedAt)
		}
		got, err := s.TaskGet(ctx, "tsk_1")
		if err != nil {
			t.Fatalf("TaskGet: %v", err)
		}
		if got.Status != lepus.StatusProcessing || got.Progress != 40 || got.Step != "image.wait" ||
			got.StartedAt == nil || !got.StartedAt.Equal(us(started)) || !got.UpdatedAt.Equal(task.UpdatedAt) ||
			!got.CreatedAt.Equal(us(t0)) {
			t.Fatalf("saved task = %+v", got)
		}
		if !jsonEq(t, got.Stages, task.Stages) || !jsonEq(t, got.Notes, []string{"accepted", "submitted"}) {
			t.Fatalf("saved stages %+v notes %v", got.Stages, got.Notes)
		}
		if st := got.Stages[0].SubmittedAt; st == nil || !st.Equal(submitted) {
			t.Fatalf("SubmittedAt = %v", st)
		}
	})

	t.Run("ErrTaskEndedKeepsCancel", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		worker := create(t, s, newTask("tsk_1", "u1"), 100)
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusCanceled}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		// A worker holding the stale copy tries to write progress.
		worker.Status, worker.Progress, worker.Step = lepus.StatusProcessing, 50, "image.collect"
		wantEnded(t, s.TaskSave(ctx, worker))
		got, err := s.TaskGet(ctx, "tsk_1")
		if err != nil {
			t.Fatalf("TaskGet: %v", err)
		}
		if got.Status != lepus.StatusCanceled || got.Progress != 0 || got.Step != "" {
			t.Fatalf("cancel was overwritten: %+v", got)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		err := s.TaskSave(ctx, &lepus.Task{ID: "nope", Status: lepus.StatusProcessing})
		wantCode(t, err, lepus.ENotFound)
	})

	t.Run("ErrTerminalStatus", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		task := create(t, s, newTask("tsk_1", "u1"), 100)
		task.Status = lepus.StatusCompleted
		wantCode(t, s.TaskSave(ctx, task), lepus.EInvalid)
	})
}

func (su suite) testTaskFinish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Completed", func(t *testing.T) {
		t.Parallel()
		s, clock := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		clock.Set(t0.Add(time.Hour))
		stages := []lepus.Stage{{Name: "image", Phase: lepus.PhaseDone, Provider: "kling",
			Results: []lepus.Result{{URL: "https://x/1.png", AssetID: "ast_1"}}}}
		got, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusCompleted,
			Progress: 80, Stages: stages})
		if err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		stored, err := s.TaskGet(ctx, "tsk_1")
		if err != nil {
			t.Fatalf("TaskGet: %v", err)
		}
		for _, task := range []*lepus.Task{got, stored} {
			if task.Status != lepus.StatusCompleted || task.Progress != 100 || task.FinishedAt == nil ||
				!task.FinishedAt.Equal(us(t0.Add(time.Hour))) || task.Error != nil {
				t.Fatalf("finished task = %+v", task)
			}
			if !jsonEq(t, task.Stages, stages) || !jsonEq(t, task.Notes, []string{"accepted"}) {
				t.Fatalf("stages %+v notes %v: stages not replaced or notes not kept", task.Stages, task.Notes)
			}
		}
		if got := ledgerKinds(t, s, "u1"); got != "debit:-10 grant:100" {
			t.Fatalf("ledger = %q: a completed task was refunded", got)
		}
	})

	t.Run("CompletedPartialRefund", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		create(t, s, newTask("tsk_1", "u1"), 100)
		// Refund more than was debited: only the debit comes back.
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusCompleted, Refund: 4}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		if got := ledgerKinds(t, s, "u1"); got != "refund:4 debit:-10 grant:100" {
			t.Fatalf("ledger = %q, want a refund of the failed part", got)
		}
		create(t, s, newTask("tsk_2", "u1"), 100)
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_2", Status: lepus.StatusCompleted, Refund: 50}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		if b := balance(t, s, "u1", 0); b != 100-10+4-10+10 {
			t.Fatalf("balance = %d", b)
		}
	})

	t.Run("FailedRefundsOnce", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		create(t, s, newTask("tsk_1", "u1"), 100)
		taskErr := &lepus.TaskError{Code: "provider_failed", Message: "the provider refused", Retryable: true}
		got, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusFailed,
			Error: taskErr, Progress: 30, Notes: []string{"gave up"}})
		if err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		if got.Progress != 30 || got.Error == nil || *got.Error != *taskErr {
			t.Fatalf("finished task = %+v", got)
		}
		stored, _ := s.TaskGet(ctx, "tsk_1")
		if stored.Error == nil || *stored.Error != *taskErr || !jsonEq(t, stored.Notes, []string{"gave up"}) {
			t.Fatalf("stored error %+v notes %v", stored.Error, stored.Notes)
		}
		_, err = s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusCanceled})
		wantEnded(t, err)
		if b := balance(t, s, "u1", 0); b != 100 {
			t.Fatalf("balance = %d, want 100", b)
		}
		if got := ledgerKinds(t, s, "u1"); got != "refund:10 debit:-10 grant:100" {
			t.Fatalf("ledger = %q", got)
		}
	})

	t.Run("ConcurrentFinishers", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		const n = 5
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusCanceled})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, lepus.ErrTaskEnded):
				t.Fatalf("TaskFinish: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d finishers won, want 1", won)
		}
		if b := balance(t, s, "u1", 0); b != 100 {
			t.Fatalf("balance = %d, want 100 (exactly one refund)", b)
		}
	})

	t.Run("CanceledFreeTaskNoRefund", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		task := newTask("tsk_1", "u1")
		task.Cost = 0
		create(t, s, task, 100)
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusCanceled}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		if got := ledgerKinds(t, s, "u1"); got != "grant:100" {
			t.Fatalf("ledger = %q", got)
		}
	})

	t.Run("ReleasesSlots", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		acquire := func(pool, holder, taskID string, cost int) {
			t.Helper()
			ok, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: pool, Capacity: 10, Holder: holder, TaskID: taskID, Cost: cost})
			if err != nil || !ok {
				t.Fatalf("SlotAcquire(%s) = %v, %v", holder, ok, err)
			}
		}
		acquire("kling", "tsk_1/image", "tsk_1", 2)
		acquire("fal", "tsk_1/video", "tsk_1", 1)
		acquire("kling", "tsk_2/image", "tsk_2", 1)
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusFailed}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		wantUsage(t, s, "kling", 1)
		wantUsage(t, s, "fal", 0)
		// The task's holders are gone: releasing them again changes nothing.
		if err := s.SlotRelease(ctx, "tsk_1/image"); err != nil {
			t.Fatalf("SlotRelease: %v", err)
		}
		wantUsage(t, s, "kling", 1)
	})

	t.Run("OnTx", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		if _, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: 5, Holder: "tsk_1/image", TaskID: "tsk_1", Cost: 1}); err != nil {
			t.Fatalf("SlotAcquire: %v", err)
		}
		boom := errors.New("cancel job failed")
		_, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusCanceled,
			OnTx: func(ctx context.Context, tx *sql.Tx, task *lepus.Task) error {
				var status string
				if err := tx.QueryRowContext(ctx, `SELECT status FROM task WHERE id = $1`, task.ID).Scan(&status); err != nil {
					return err
				}
				if status != string(lepus.StatusCanceled) {
					t.Errorf("OnTx saw status %q, want canceled", status)
				}
				return boom
			}})
		if !errors.Is(err, boom) {
			t.Fatalf("TaskFinish error = %v, want the OnTx error", err)
		}
		got, _ := s.TaskGet(ctx, "tsk_1")
		if got.Status != lepus.StatusPending || got.FinishedAt != nil {
			t.Fatalf("task after failed OnTx = %+v, want untouched", got)
		}
		wantUsage(t, s, "kling", 1)
		if b := balance(t, s, "u1", 0); b != 90 {
			t.Fatalf("balance = %d, want 90 (refund rolled back)", b)
		}
		ran := false
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusCanceled,
			OnTx: func(context.Context, *sql.Tx, *lepus.Task) error { ran = true; return nil }}); err != nil || !ran {
			t.Fatalf("TaskFinish = %v, OnTx ran %v", err, ran)
		}
	})

	t.Run("ErrInvalidAndNotFound", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		_, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_1", Status: lepus.StatusProcessing})
		wantCode(t, err, lepus.EInvalid)
		_, err = s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "nope", Status: lepus.StatusFailed})
		wantCode(t, err, lepus.ENotFound)
	})
}

func wantUsage(t *testing.T, s interface {
	SlotUsage(context.Context, string) (int, error)
}, pool string, want int) {
	t.Helper()
	got, err := s.SlotUsage(context.Background(), pool)
	if err != nil {
		t.Fatalf("SlotUsage(%s): %v", pool, err)
	}
	if got != want {
		t.Fatalf("SlotUsage(%s) = %d, want %d", pool, got, want)
	}
}
