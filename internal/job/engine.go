// Package job runs tasks on the River queue. Each task is a small durable
// state machine (see lepus.Stage): every step is persisted before the next
// starts, waiting on a provider is a River snooze (no worker held, no attempt
// spent), and a retry resumes at the first unfinished step.
package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// Engine advances tasks. It is shared by every worker of a process.
type Engine struct {
	Store     lepus.Store
	Workflows *workflow.Registry
	// Providers by lepus.Stage.Provider name.
	Providers map[string]Provider
	Blob      *blob.Store
	Fetch     *fetch.Client
	// Slots is the capacity of each provider pool.
	Slots map[string]int
	// CallbackURL returns the provider callback URL for a task's token, or ""
	// when providers cannot reach Lepus.
	CallbackURL func(token string) string
	// Notify is told after every persisted change of a task (SSE wake-ups).
	Notify func(taskID string)
	Now    func() time.Time
	Logger *slog.Logger
}

// run is the state of one Work call.
type run struct {
	e       *Engine
	def     *workflow.Definition
	t       *lepus.Task
	attempt int
	last    bool // this is the job's last attempt
	log     *slog.Logger
}

// Run advances task id as far as it can go now. It returns nil when the task
// ended (or has nothing to do), river.JobSnooze while it waits, or an error
// to retry with backoff.
func (e *Engine) Run(ctx context.Context, taskID string, attempt, maxAttempts int) error {
	t, err := e.Store.TaskGet(ctx, taskID)
	if lepus.ErrorCode(err) == lepus.ENotFound {
		return river.JobCancel(fmt.Errorf("task %s does not exist", taskID))
	}
	if err != nil {
		return fmt.Errorf("load task: %w", err)
	}
	if t.Status.Terminal() {
		return nil
	}
	def := e.Workflows.Get(t.Type)
	if def == nil {
		return river.JobCancel(fmt.Errorf("task %s: unknown type %q", t.ID, t.Type))
	}
	r := &run{e: e, def: def, t: t, attempt: attempt, last: attempt >= maxAttempts,
		log: e.Logger.With("task_id", t.ID, "task_type", t.Type, "attempt", attempt)}
	err = r.advance(ctx)
	return r.settle(ctx, err)
}

// advance walks the stages in order, running each unfinished step.
func (r *run) advance(ctx context.Context) error {
	for i := range r.t.Stages {
		st := &r.t.Stages[i]
		if st.ExternalID == "" {
			st.ExternalID = r.t.ID + "-" + st.Name
		}
		for st.Phase != lepus.PhaseDone {
			// A result that is ready is collected even past the limit.
			if st.Phase != lepus.PhaseCollect {
				if err := r.checkSoftLimit(); err != nil {
					return err
				}
			}
			var err error
			switch st.Phase {
			case lepus.PhaseSubmit:
				err = r.submit(ctx, i, st)
			case lepus.PhaseWait:
				err = r.wait(ctx, i, st)
			case lepus.PhaseCollect:
				err = r.collect(ctx, i, st)
			default:
				return permanent("internal", fmt.Sprintf("stage %s has unknown phase %q", st.Name, st.Phase), false)
			}
			if err != nil {
				return err
			}
		}
	}
	_, err := r.e.Store.TaskFinish(ctx, &lepus.TaskFinishParams{
		ID: r.t.ID, Status: lepus.StatusCompleted, Progress: 100, Stages: r.t.Stages, Notes: r.t.Notes,
	})
	if err == nil {
		r.log.Info("task completed")
		r.notify()
	}
	return err
}

// save persists the task's progress; it is the step boundary.
func (r *run) save(ctx context.Context) error {
	if err := r.e.Store.TaskSave(ctx, r.t); err != nil {
		return err
	}
	r.notify()
	return nil
}

func (r *run) notify() {
	if r.e.Notify != nil {
		r.e.Notify(r.t.ID)
	}
}

// settle turns the outcome of advance into what River should do.
func (r *run) settle(ctx context.Context, err error) error {
	var snooze *snoozeError
	var perm *permanentError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lepus.ErrTaskEnded):
		// Canceled (or finished elsewhere) while we worked: give back any
		// slot taken after the cancel, and stop.
		r.releaseSlots(ctx)
		return nil
	case errors.As(err, &snooze):
		return river.JobSnooze(snooze.d)
	case errors.As(err, &perm):
		return r.fail(ctx, perm.taskErr)
	case ctx.Err() != nil && r.last:
		return r.fail(ctx, lepus.TaskError{Code: "time_limit", Message: "a step ran past its time limit on the last attempt", Retryable: true})
	case r.last:
		return r.fail(ctx, lepus.TaskError{Code: "retries_exhausted",
			Message: fmt.Sprintf("gave up after %d attempts: %v", r.attempt, err), Retryable: true})
	default:
		r.log.Warn("task step failed; will retry", "error", err)
		return err
	}
}

// fail ends the task as failed (refunding its credits) and completes the job.
func (r *run) fail(ctx context.Context, te lepus.TaskError) error {
	_, err := r.e.Store.TaskFinish(ctx, &lepus.TaskFinishParams{
		ID: r.t.ID, Status: lepus.StatusFailed, Error: &te, Progress: r.t.Progress, Stages: r.t.Stages, Notes: r.t.Notes,
	})
	if errors.Is(err, lepus.ErrTaskEnded) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fail task: %w", err)
	}
	r.log.Info("task failed", "error_code", te.Code, "error_message", te.Message)
	r.notify()
	return nil
}

func (r *run) releaseSlots(ctx context.Context) {
	for _, st := range r.t.Stages {
		if st.Slot != "" {
			if err := r.e.Store.SlotRelease(context.WithoutCancel(ctx), slotHolder(r.t, &st)); err != nil {
				r.log.Warn("release provider slot", "error", err)
			}
		}
	}
}

func (r *run) checkSoftLimit() error {
	limit := r.def.Policy.SoftLimit
	if limit <= 0 || len(r.t.Stages) == 0 || r.t.Stages[0].SubmittedAt == nil {
		return nil
	}
	if r.e.Now().Sub(*r.t.Stages[0].SubmittedAt) > limit {
		return permanent("time_limit", fmt.Sprintf("the task ran past its time limit of %s", limit), true)
	}
	return nil
}

// snoozeError asks River to run the job again after d, at no attempt's cost.
type snoozeError struct{ d time.Duration }

func (e *snoozeError) Error() string { return fmt.Sprintf("snooze %s", e.d) }

// snooze waits d plus up to 10% jitter, so many waiting tasks spread out.
func snooze(d time.Duration) error {
	return &snoozeError{d: d + time.Duration(rand.Int64N(int64(d/10)+1))}
}

// permanentError fails the task at once, with no retry.
type permanentError struct{ taskErr lepus.TaskError }

func (e *permanentError) Error() string { return e.taskErr.Message }

func permanent(code, msg string, retryable bool) error {
	return &permanentError{taskErr: lepus.TaskError{Code: code, Message: msg, Retryable: retryable}}
}
