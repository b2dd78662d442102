package job_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// TestSweeper_FailsLostTasks: a task whose job ended without finishing it
// (here: cancelled behind Lepus's back, as a discarded last attempt would
// be) is failed by the sweep and refunded, instead of staying processing.
func TestSweeper_FailsLostTasks(t *testing.T) {
	t.Parallel()
	b := setup(t, options{sandbox: func(c *sandbox.Config) { c.ImageLatency = time.Hour }})
	lost := b.faceSwap(t, "lou", false)
	alive := b.faceSwap(t, "lou", false)
	for _, task := range []*lepus.Task{lost, alive} {
		b.waitFor(t, task.ID, "to wait on the provider", func(t *lepus.Task) bool { return t.Stages[0].Phase == lepus.PhaseWait })
	}
	if _, err := b.queue.JobCancel(context.Background(), lost.JobID); err != nil {
		t.Fatal(err)
	}
	// A job cancelled while running ends when its run does.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		j, err := b.queue.JobGet(context.Background(), lost.JobID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == rivertype.JobStateCancelled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job state %s, want cancelled", j.State)
		}
	}
	if err := b.kinds.Sweeper.Work(context.Background(), &river.Job[job.SweepArgs]{}); err != nil {
		t.Fatal(err)
	}
	got := b.waitEnded(t, lost.ID)
	requireStatus(t, got, lepus.StatusFailed)
	if got.Error.Code != "lost" {
		t.Fatalf("error %+v", got.Error)
	}
	if still, _ := b.store.TaskGet(context.Background(), alive.ID); still.Status.Terminal() {
		t.Fatalf("the sweep ended a task whose job is alive: %+v", still)
	}
	if bal := b.balance(t, "lou"); bal != grant-4 {
		t.Fatalf("balance %d, want the lost task refunded (%d)", bal, grant-4)
	}
}
