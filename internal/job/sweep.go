package job

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// SweepArgs is the periodic sweep job: it finishes tasks whose job ended
// without finishing them (a process killed on the job's last attempt, a
// panic on the last attempt), so no task stays pending or processing
// forever holding credits and provider slots.
type SweepArgs struct{}

// Kind names the sweep job.
func (SweepArgs) Kind() string { return "lepus_sweep" }

// SweepInterval is how often the leader sweeps.
const SweepInterval = time.Minute

// Sweeper is the sweep worker; its Client is set once the client exists.
type Sweeper struct {
	river.WorkerDefaults[SweepArgs]
	Engine *Engine
	Client *Client
}

// Work fails every unfinished task whose job is discarded, cancelled or
// completed.
func (s *Sweeper) Work(ctx context.Context, j *river.Job[SweepArgs]) error {
	if j != nil && j.JobRow != nil {
		s.Engine.Running.add(j.ID) // so crash recovery knows it runs here
		defer s.Engine.Running.remove(j.ID)
	}
	tasks, err := s.Engine.Store.TaskListUnfinished(ctx, 500)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	for _, t := range tasks {
		if t.JobID == 0 || s.Client == nil {
			continue
		}
		j, err := s.Client.JobGet(ctx, t.JobID)
		if err != nil && err != rivertype.ErrNotFound {
			return fmt.Errorf("sweep: job %d: %w", t.JobID, err)
		}
		if err == nil && j.State != rivertype.JobStateDiscarded && j.State != rivertype.JobStateCancelled && j.State != rivertype.JobStateCompleted {
			continue
		}
		if err := s.Engine.failLost(ctx, t.ID, "the task's job ended without finishing it"); err != nil {
			return err
		}
	}
	return nil
}

// failLost fails a task whose job can no longer finish it, refunding it.
func (e *Engine) failLost(ctx context.Context, taskID, why string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := e.Store.TaskFinish(ctx, &lepus.TaskFinishParams{ID: taskID, Status: lepus.StatusFailed,
		Error: &lepus.TaskError{Code: "lost", Message: why + "; its credits were refunded", Retryable: true}})
	if err != nil && err != lepus.ErrTaskEnded {
		return fmt.Errorf("fail lost task %s: %w", taskID, err)
	}
	if err == nil {
		e.Logger.Warn("failed a lost task", "task_id", taskID, "reason", why)
		if e.Notify != nil {
			e.Notify(taskID)
		}
		e.handover(ctx)
	}
	return nil
}

// periodicSweep schedules the sweep on the leader.
func periodicSweep() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return SweepArgs{}, &river.InsertOpts{Queue: QueueName, MaxAttempts: 1}
		}, &river.PeriodicJobOpts{RunOnStart: true})
}
