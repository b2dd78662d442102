package sqlstore_test

import (
	"context"
	"testing"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// testWait: a wait keeps the job id it was recorded with, so the watcher's
// list needs no task read; a wait recorded without one (by a version before
// the column) still lists its task's job.
func (su suite) testWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := su.open(t, 0)
	create(t, s, newTask("tsk_new", "u1"), 100) // job 42 (create)
	create(t, s, newTask("tsk_old", "u1"), 100)
	for _, w := range []*lepus.ProviderWait{
		{Provider: "kling", Endpoint: "/v1/images/omni-image", ProviderTaskID: "p1", TaskID: "tsk_new", Stage: "image", SubmittedAt: t0, JobID: 7},
		{Provider: "kling", Endpoint: "/v1/images/omni-image", ProviderTaskID: "p2", TaskID: "tsk_old", Stage: "image", SubmittedAt: t0.Add(1)},
	} {
		if err := s.WaitAdd(ctx, w); err != nil {
			t.Fatalf("WaitAdd(%s): %v", w.TaskID, err)
		}
	}
	got, err := s.WaitList(ctx, "kling")
	if err != nil {
		t.Fatalf("WaitList: %v", err)
	}
	if len(got) != 2 || got[0].TaskID != "tsk_new" || got[0].JobID != 7 || got[1].TaskID != "tsk_old" || got[1].JobID != 42 {
		t.Fatalf("WaitList = %+v, want tsk_new with its recorded job 7, then tsk_old with its task's job 42", got)
	}
}
