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
	"strings"
	"sync/atomic"
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
	// SeedreamModel is the Ark model (or endpoint) id for avatar portraits.
	SeedreamModel string
	// Notify is told after every persisted change of a task (SSE wake-ups).
	Notify func(taskID string)
	// Waker wakes the tasks a freed provider slot lets go on; set once the
	// queue client exists.
	Waker *Waker
	// Watchers batch-poll the providers that can list their tasks, by
	// provider name; a stage of a watched provider waits for its watcher.
	Watchers map[string]*Watcher
	// SlotWait is the safety-net sleep of a task waiting for a provider
	// slot; a release wakes it sooner. Default DefaultSlotWait.
	SlotWait time.Duration
	// RetryBase is the first delay before a failed step is tried again;
	// each retry of the stage doubles it, capped at 300 s. Default 1 s.
	RetryBase time.Duration
	// Running is the set of jobs this process works now (crash recovery).
	Running Running
	Now     func() time.Time
	Logger  *slog.Logger

	stopping atomic.Bool
}

// Stopping tells the engine that the process is shutting down: a run cut
// short from now on is handed back to the queue without costing an attempt.
func (e *Engine) Stopping() { e.stopping.Store(true) }

// handover wakes the tasks waiting at the head of each provider pool's
// line that now fit: called after anything gives units back.
func (e *Engine) handover(ctx context.Context) {
	if e.Waker == nil {
		return
	}
	ws, err := e.Store.SlotNext(ctx)
	if err != nil {
		e.Logger.Warn("find tasks waiting for a provider slot", "error", err)
		return
	}
	ids := make([]int64, 0, len(ws))
	for _, w := range ws {
		ids = append(ids, w.JobID)
	}
	e.Waker.Wake(ctx, ids...)
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
	if e.databaseDown(ctx, err) {
		e.awaitDatabase(ctx, e.Logger.With("task_id", taskID))
		return river.JobSnooze(0)
	}
	if err != nil {
		return fmt.Errorf("load task: %w", err)
	}
	if t.Status.Terminal() {
		return nil
	}
	def := e.Workflows.Get(t.Type)
	if def == nil {
		r := &run{e: e, t: t, log: e.Logger.With("task_id", t.ID, "request_id", t.RequestID)}
		return r.fail(ctx, lepus.TaskError{Code: "internal", Message: fmt.Sprintf("this server does not know task type %q", t.Type)})
	}
	r := &run{e: e, def: def, t: t, attempt: attempt, last: attempt >= maxAttempts,
		log: e.Logger.With("task_id", t.ID, "task_type", t.Type, "attempt", attempt, "request_id", t.RequestID)}
	err = r.advance(ctx)
	return r.settle(ctx, err)
}

// advance walks the stages in order, running each unfinished step. Stages
// of one group run side by side: each goes as far as it can, and the group
// waits for the slowest.
func (r *run) advance(ctx context.Context) error {
	for i := 0; i < len(r.t.Stages); {
		j := groupEnd(r.t.Stages, i)
		if err := r.runGroup(ctx, i, j); err != nil {
			return err
		}
		i = j
	}
	refund := 0
	for _, st := range r.t.Stages {
		if st.Phase == lepus.PhaseFailed {
			refund += st.Cost
		}
	}
	_, err := r.e.Store.TaskFinish(ctx, &lepus.TaskFinishParams{
		ID: r.t.ID, Status: lepus.StatusCompleted, Progress: 100, Stages: r.t.Stages, Notes: r.t.Notes, Refund: refund,
	})
	if err == nil {
		r.log.Info("task completed", "refund", refund)
		r.notify()
		r.e.handover(ctx)
	}
	return err
}

// groupEnd returns the end (exclusive) of the group starting at stage i.
func groupEnd(stages []lepus.Stage, i int) int {
	j := i + 1
	for g := stages[i].Group; g != "" && j < len(stages) && stages[j].Group == g; j++ {
	}
	return j
}

// runGroup runs stages [from, to). It returns nil when all have ended, the
// shortest snooze while any waits, or the first error that is not an
// optional stage's failure.
func (r *run) runGroup(ctx context.Context, from, to int) error {
	var wait *snoozeError
	var retry error // the first transient error; the other stages still run
	for i := from; i < to; i++ {
		err := r.runStage(ctx, i)
		var sn *snoozeError
		var perm *permanentError
		optional := r.t.Stages[i].Optional
		switch {
		case err == nil:
		case errors.As(err, &sn):
			if wait == nil || sn.d < wait.d {
				wait = sn
			}
		case errors.As(err, &perm) && optional:
			if err := r.stageFailed(ctx, i, perm.taskErr); err != nil {
				return err
			}
		case optional && to-from > 1 && r.last && ctx.Err() == nil && !errors.Is(err, lepus.ErrTaskEnded):
			// Out of attempts: this part fails, the others go on.
			r.log.Warn("stage failed on the last attempt", "stage", r.t.Stages[i].Name, "error", err)
			if err := r.stageFailed(ctx, i, lepus.TaskError{Code: "retries_exhausted",
				Message: "gave up after " + fmt.Sprint(r.attempt) + " attempts: " + r.e.publicReason(err), Retryable: true}); err != nil {
				return err
			}
		case to-from > 1 && ctx.Err() == nil && !errors.Is(err, lepus.ErrTaskEnded):
			if retry == nil {
				retry = err
			}
		default:
			return err
		}
	}
	if retry != nil {
		return retry
	}
	if wait != nil {
		return wait
	}
	if r.t.Stages[from].Group == "" {
		return nil // a lone optional stage may fail; the task goes on (a fallback follows)
	}
	var failed []string
	for i := from; i < to; i++ {
		if r.t.Stages[i].Phase != lepus.PhaseFailed {
			return nil // at least one succeeded
		}
		failed = append(failed, r.t.Stages[i].Name+": "+r.t.Stages[i].Error.Message)
	}
	return permanent("all_failed", fmt.Sprintf("every part failed: %s", strings.Join(failed, "; ")), true)
}

// runStage runs one stage as far as it can go now: to its end, or until
// it must wait (a snooze) or fails.
func (r *run) runStage(ctx context.Context, i int) error {
	st := &r.t.Stages[i]
	if st.ExternalID == "" {
		st.ExternalID = r.t.ID + "-" + st.Name
	}
	for st.Phase != lepus.PhaseDone && st.Phase != lepus.PhaseFailed {
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
			return r.retryLater(ctx, st, err)
		}
	}
	return nil
}

// stageFailed ends an optional stage that failed: its slot goes back, its
// error is recorded, and the task goes on.
func (r *run) stageFailed(ctx context.Context, i int, te lepus.TaskError) error {
	st := &r.t.Stages[i]
	st.Phase, st.Error = lepus.PhaseFailed, &te
	r.releaseSlot(ctx, st)
	r.log.Info("stage failed; the task goes on", "stage", st.Name, "error_code", te.Code)
	if err := r.save(ctx); err != nil {
		return err
	}
	r.e.handover(ctx)
	return nil
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
	case r.e.databaseDown(ctx, err):
		// The database is down: not a failed attempt. Wait for it, then
		// hand the job back; the step runs again from its persisted state.
		r.e.awaitDatabase(ctx, r.log)
		return river.JobSnooze(0)
	case ctx.Err() != nil && r.e.stopping.Load():
		// Cut short by a shutdown: not a failed attempt. The slots stay
		// held (a provider task may be running); the next run resumes.
		r.log.Info("run interrupted by shutdown; handed back", "error", err)
		return river.JobSnooze(0)
	case ctx.Err() != nil && !r.last:
		return err // the run was cut short; the next run resumes with its slots
	case errors.As(err, &snooze):
		return river.JobSnooze(snooze.d)
	case errors.As(err, &perm):
		return r.fail(ctx, perm.taskErr)
	case ctx.Err() != nil && r.last:
		return r.fail(ctx, lepus.TaskError{Code: "time_limit", Message: "a step ran past its time limit on the last attempt", Retryable: true})
	case r.last:
		r.log.Warn("task failed on its last attempt", "error", err)
		return r.fail(ctx, lepus.TaskError{Code: "retries_exhausted",
			Message: fmt.Sprintf("gave up after %d attempts: %s", r.attempt, r.e.publicReason(err)), Retryable: true})
	default:
		r.log.Warn("task step failed; will retry", "error", err)
		return err
	}
}

// fail ends the task as failed (refunding its credits) and completes the job.
// It works even when the run's context is done (a time limit hit).
func (r *run) fail(ctx context.Context, te lepus.TaskError) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
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
	r.e.handover(ctx)
	return nil
}

func (r *run) releaseSlots(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, st := range r.t.Stages {
		if st.Slot != "" {
			if err := r.e.Store.SlotRelease(ctx, slotHolder(r.t, &st)); err != nil {
				r.log.Warn("release provider slot", "error", err)
			}
		}
	}
	r.e.handover(ctx)
}

// checkSoftLimit fails the task once the provider has spent more than the
// workflow's soft limit on it: the time from each stage's submission to the
// provider's answer, summed. Time waiting for a slot and time Lepus was down
// after the provider finished do not count.
func (r *run) checkSoftLimit() error {
	limit := r.def.Policy.SoftLimit
	if limit <= 0 {
		return nil
	}
	now := r.e.Now()
	var spent time.Duration
	for _, st := range r.t.Stages {
		if st.SubmittedAt == nil || st.Sync {
			continue
		}
		end := now
		if st.ProviderDoneAt != nil {
			end = *st.ProviderDoneAt
		}
		spent += end.Sub(*st.SubmittedAt)
	}
	if spent > limit {
		return permanent("time_limit", fmt.Sprintf("the provider ran past the task's time limit of %s", limit), true)
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

// Wake makes waiting jobs run now (app.Queue).
func (e *Engine) Wake(ctx context.Context, jobIDs ...int64) {
	if e.Waker != nil {
		e.Waker.Wake(ctx, jobIDs...)
	}
}

// Kick tells the workers a job is ready (app.Queue).
func (e *Engine) Kick(ctx context.Context) {
	if e.Waker != nil {
		e.Waker.Kick(ctx)
	}
}

// ProviderEnded is told by a batch poll which provider tasks ended. A
// provider frees a task's slot when the task ends, so the stage's slot is
// released and handed over now, while the ended task's own job is woken to
// collect: the next task in line need not wait for that job to run first.
// Releasing again when the job sees the end itself is a no-op.
func (e *Engine) ProviderEnded(ctx context.Context, ended []lepus.ProviderWait) {
	jobIDs := make([]int64, 0, len(ended))
	for _, w := range ended {
		if err := e.Store.SlotRelease(ctx, holderOf(w.TaskID, w.Stage)); err != nil {
			e.Logger.Warn("release provider slot", "task_id", w.TaskID, "stage", w.Stage, "error", err)
		}
		jobIDs = append(jobIDs, w.JobID)
	}
	e.handover(ctx)
	e.Wake(ctx, jobIDs...)
}

// CalledBack is told of a provider callback for task t (app.Queue). A
// callback is unsigned, so it is only a hint: each stage of t waiting on
// its provider with a slot is re-queried here, and if the provider task
// ended its slot is released and handed over now, as a batch poll that
// sees it end does, not after the woken job has run behind the other
// collects of its wave. The job is woken either way and re-queries before
// it trusts anything. Spaced providers (Stability) are not re-queried: their
// queries are rationed.
func (e *Engine) CalledBack(ctx context.Context, t *lepus.Task) {
	var ended []lepus.ProviderWait
	for i := range t.Stages {
		st := &t.Stages[i]
		p := e.Providers[st.Provider]
		if st.Phase != lepus.PhaseWait || st.Slot == "" || st.ProviderTaskID == "" || p == nil {
			continue
		}
		if _, spaced := p.(Spacer); spaced {
			continue
		}
		if res, err := p.Poll(ctx, st); err == nil && res.State != PollRunning {
			ended = append(ended, lepus.ProviderWait{TaskID: t.ID, Stage: st.Name, JobID: t.JobID})
		}
	}
	if len(ended) > 0 {
		e.ProviderEnded(ctx, ended) // releases, hands over, wakes the job
		return
	}
	e.Wake(ctx, t.JobID)
}

// Handover wakes the tasks waiting for provider slots that are free now
// (app.Queue).
func (e *Engine) Handover(ctx context.Context) { e.handover(ctx) }
