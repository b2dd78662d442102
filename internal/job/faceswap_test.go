package job_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sandbox"
	"github.com/lepus-ai/lepus/internal/sqlstore"
)

func TestEngine_FaceSwap(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			b := setup(t, options{dialect: dialect})
			task := b.faceSwap(t, "alice", true)
			if task.Cost != 14 {
				t.Fatalf("cost = %d, want 14 (4 + 10 for the video)", task.Cost)
			}
			got := b.waitEnded(t, task.ID)
			requireStatus(t, got, lepus.StatusCompleted)
			if got.Progress != 100 || len(got.Assets) != 2 {
				t.Fatalf("progress %d, %d assets", got.Progress, len(got.Assets))
			}
			img, vid := got.Assets[0], got.Assets[1]
			if img.Kind != lepus.AssetImage || img.Mime != "image/png" || img.Width == 0 || !img.Primary || img.Model != "kling-image-o1" {
				t.Fatalf("image asset = %+v", img)
			}
			if vid.Kind != lepus.AssetVideo || vid.Mime != "video/mp4" || vid.DurationS != 5 || vid.ProviderID == "" || vid.Model != "kling-video-o1" {
				t.Fatalf("video asset = %+v", vid)
			}
			if n := b.sb.Submissions(ext(task, "image")); n != 1 {
				t.Fatalf("image submissions = %d", n)
			}
			if n := b.sb.Submissions(ext(task, "video")); n != 1 {
				t.Fatalf("video submissions = %d", n)
			}
			if bal := b.balance(t, "alice"); bal != grant-14 {
				t.Fatalf("balance = %d, want %d", bal, grant-14)
			}
			// The video's first frame is the swapped image at the provider.
			if !strings.Contains(string(got.Stages[1].Request), got.Stages[0].Results[0].URL) {
				t.Fatalf("video request %s does not start from the swapped image", got.Stages[1].Request)
			}
		})
	}
}

func TestEngine_TransientFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	// A 5000 and a connection reset cost a retry of the stage each; a 1303
	// (no free provider slot) and slow responses cost none. Retries are the
	// stage's own, not the queue job's attempts.
	b.sb.InjectCreate(sandbox.Fault{Code: 5000}, sandbox.Fault{Reset: true}, sandbox.Fault{Code: 1303},
		sandbox.Fault{Delay: 200 * time.Millisecond})
	task := b.faceSwap(t, "bob", false)
	got := b.waitEnded(t, task.ID)
	requireStatus(t, got, lepus.StatusCompleted)
	if n := b.sb.Submissions(ext(task, "image")); n != 1 {
		t.Fatalf("submissions = %d, want exactly 1", n)
	}
	if n := got.Stages[0].Retries; n != 2 {
		t.Fatalf("image stage retried %d times, want 2 (1303 must not cost a retry)", n)
	}
	if attempt, errs := b.job(t, got); attempt != 1 || errs != 0 {
		t.Fatalf("job attempt %d with %d errors, want 1 and 0: stage retries are not queue attempts", attempt, errs)
	}
}

func TestEngine_LostSubmitResponse(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	// The provider accepts the task, then the connection drops before the
	// reply: the retry must find the task by external_task_id, not pay again.
	b.sb.InjectCreate(sandbox.Fault{AfterAccept: true})
	task := b.faceSwap(t, "carol", false)
	got := b.waitEnded(t, task.ID)
	requireStatus(t, got, lepus.StatusCompleted)
	if n := b.sb.Submissions(ext(task, "image")); n != 1 {
		t.Fatalf("submissions = %d, want exactly 1", n)
	}
}

func TestEngine_PermanentErrors(t *testing.T) {
	t.Parallel()
	for _, code := range []int{1201, 1301} {
		t.Run(codeName(code), func(t *testing.T) {
			t.Parallel()
			b := setup(t, options{})
			b.sb.InjectCreate(sandbox.Fault{Code: code})
			task := b.faceSwap(t, "dave", false)
			got := b.waitEnded(t, task.ID)
			requireStatus(t, got, lepus.StatusFailed)
			if got.Error.Code != "provider_rejected" || got.Error.Retryable || !strings.Contains(got.Error.Message, "kling") {
				t.Fatalf("error = %+v", got.Error)
			}
			if attempt, _ := b.job(t, got); attempt != 1 {
				t.Fatalf("attempt = %d: a permanent error must not be retried", attempt)
			}
			requireRefundedOnce(t, b, "dave")
		})
	}
}

func TestEngine_ProviderTaskFailed(t *testing.T) {
	t.Parallel()
	b := setup(t, options{sandbox: func(c *sandbox.Config) { c.ImageLatency = time.Hour }})
	task := b.faceSwap(t, "erin", false)
	b.waitFor(t, task.ID, "to wait on the provider", func(t *lepus.Task) bool { return t.Stages[0].Phase == lepus.PhaseWait })
	b.sb.FailTask(ext(task, "image"), "content risk control triggered")
	got := b.waitEnded(t, task.ID)
	requireStatus(t, got, lepus.StatusFailed)
	if got.Error.Code != "provider_failed" || !strings.Contains(got.Error.Message, "content risk control triggered") {
		t.Fatalf("error = %+v", got.Error)
	}
	requireRefundedOnce(t, b, "erin")
}

func TestEngine_MaxPolls(t *testing.T) {
	t.Parallel()
	b := setup(t, options{sandbox: func(c *sandbox.Config) { c.ImageLatency = time.Hour }})
	task := b.faceSwap(t, "frank", false)
	got := b.waitEnded(t, task.ID)
	requireStatus(t, got, lepus.StatusFailed)
	// The budget is the old poll loop's time, 60 polls × 20 ms; the watcher
	// batch-polls meanwhile, so the stage itself asks only a few times.
	if got.Error.Code != "provider_timeout" || !strings.Contains(got.Error.Message, "within 1.2s") {
		t.Fatalf("error = %+v after %d polls", got.Error, got.Stages[0].Polls)
	}
	requireRefundedOnce(t, b, "frank")
}

func TestEngine_RetriesExhausted(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	b.sb.InjectCreate(sandbox.Fault{Code: 5000}, sandbox.Fault{Code: 5001}, sandbox.Fault{Code: 5002}, sandbox.Fault{Reset: true})
	task := b.faceSwap(t, "gina", false)
	got := b.waitEnded(t, task.ID)
	requireStatus(t, got, lepus.StatusFailed)
	if got.Error.Code != "retries_exhausted" || !got.Error.Retryable || !strings.Contains(got.Error.Message, "4 attempts") {
		t.Fatalf("error = %+v", got.Error)
	}
	if n := b.sb.Submissions(ext(task, "image")); n != 0 {
		t.Fatalf("submissions = %d, want 0", n)
	}
	requireRefundedOnce(t, b, "gina")
}

func TestEngine_SlotCap(t *testing.T) {
	t.Parallel()
	// The sandbox account allows one running task; Lepus's own cap of one
	// slot must keep it from ever hearing 1303.
	b := setup(t, options{imageSlots: 1, sandbox: func(c *sandbox.Config) { c.Concurrency = 1 }})
	var tasks []*lepus.Task
	for range 3 {
		tasks = append(tasks, b.faceSwap(t, "hana", false))
	}
	for _, task := range tasks {
		requireStatus(t, b.waitEnded(t, task.ID), lepus.StatusCompleted)
		if n := b.sb.Submissions(ext(task, "image")); n != 1 {
			t.Fatalf("submissions = %d", n)
		}
	}
	if busy := b.sb.Stats().Busy; busy != 0 {
		t.Fatalf("the sandbox answered 1303 %d times; the slot cap should prevent it", busy)
	}
	if used, _ := b.store.SlotUsage(context.Background(), "kling:image"); used != 0 {
		t.Fatalf("slots still held after all tasks ended: %d", used)
	}
}

func TestEngine_Cancel(t *testing.T) {
	t.Parallel()
	b := setup(t, options{sandbox: func(c *sandbox.Config) { c.ImageLatency = time.Hour }})
	task := b.faceSwap(t, "ivan", false)
	b.waitFor(t, task.ID, "to wait on the provider", func(t *lepus.Task) bool { return t.Stages[0].Phase == lepus.PhaseWait })
	got, err := b.svc.CancelTask(context.Background(), "ivan", task.ID)
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, got, lepus.StatusCanceled)
	requireRefundedOnce(t, b, "ivan")
	if _, err := b.svc.CancelTask(context.Background(), "ivan", task.ID); lepus.ErrorCode(err) != lepus.EConflict {
		t.Fatalf("second cancel: %v, want conflict", err)
	}
	if used, _ := b.store.SlotUsage(context.Background(), "kling:image"); used != 0 {
		t.Fatalf("a canceled task still holds %d slots", used)
	}
}

func requireRefundedOnce(t *testing.T, b *bundle, user string) {
	t.Helper()
	if bal := b.balance(t, user); bal != grant {
		t.Fatalf("balance = %d, want the full grant %d back", bal, grant)
	}
	entries, err := b.store.CreditLedger(context.Background(), user, 100)
	if err != nil {
		t.Fatal(err)
	}
	refunds := 0
	for _, e := range entries {
		if e.Kind == lepus.LedgerRefund {
			refunds++
		}
	}
	if refunds != 1 {
		t.Fatalf("%d refunds, want exactly 1: %+v", refunds, entries)
	}
}

func codeName(code int) string {
	return map[int]string{1201: "InvalidParameter", 1301: "ContentSafety"}[code]
}

// A freed slot wakes the next waiting task: with the waiters' safety-net
// timer at an hour, the tasks can only finish through the hand-over.
func TestEngine_SlotHandover(t *testing.T) {
	t.Parallel()
	b := setup(t, options{imageSlots: 1, engine: slotWaitHour, sandbox: func(c *sandbox.Config) { c.Concurrency = 1 }})
	var tasks []*lepus.Task
	for range 4 {
		tasks = append(tasks, b.faceSwap(t, "hal", false))
	}
	for _, task := range tasks {
		requireStatus(t, b.waitEnded(t, task.ID), lepus.StatusCompleted)
	}
	if busy := b.sb.Stats().Busy; busy != 0 {
		t.Fatalf("the sandbox answered 1303 %d times", busy)
	}
}

// A cancel frees its slot for the next task in line at once.
func TestEngine_CancelHandsOverSlot(t *testing.T) {
	t.Parallel()
	b := setup(t, options{imageSlots: 1, engine: slotWaitHour, sandbox: func(c *sandbox.Config) { c.ImageLatency = time.Hour }})
	first := b.faceSwap(t, "hugo", false)
	b.waitFor(t, first.ID, "to wait on the provider", func(t *lepus.Task) bool { return t.Stages[0].Phase == lepus.PhaseWait })
	second := b.faceSwap(t, "hugo", false)
	b.waitFor(t, second.ID, "to wait for the slot", func(t *lepus.Task) bool { return t.Step == "image.waiting_for_slot" })
	if _, err := b.svc.CancelTask(context.Background(), "hugo", first.ID); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, second.ID, "to take the freed slot", func(t *lepus.Task) bool { return t.Stages[0].Phase == lepus.PhaseWait })
}

// slotWaitHour makes a slot waiter's safety-net timer an hour long.
func slotWaitHour(e *job.Engine) { e.SlotWait = time.Hour }
