package job

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// MaxSlotWait bounds how long a stage waits for a free provider slot.
const MaxSlotWait = time.Hour

// DefaultSlotWait is how long a task waiting for a provider slot sleeps if
// no freed slot wakes it first: the wake-up on release is the path, this
// timer only the safety net.
const DefaultSlotWait = 30 * time.Second

// slotWait waits for a slot of our own pool: a release wakes the task.
func (r *run) slotWait() error {
	return snooze(max(cmp.Or(r.e.SlotWait, DefaultSlotWait), r.def.Policy.PollInterval))
}

// busyWait waits after the provider itself said it is busy (Kling 1303):
// no release of ours will say when, so it looks again after a poll interval.
func (r *run) busyWait() error { return snooze(r.def.Policy.PollInterval) }

// submit builds (once) and sends the stage's provider request. The attempt
// is persisted before the call, so a retry after a crash first asks the
// provider whether the request arrived (by our external id) and never pays
// twice.
func (r *run) submit(ctx context.Context, i int, st *lepus.Stage) error {
	p, err := r.provider(st)
	if err != nil {
		return err
	}
	if st.Request == nil {
		cb := ""
		if r.e.CallbackURL != nil {
			cb = r.e.CallbackURL(r.t.CallbackToken)
		}
		body, err := r.def.Build(r.t, st, workflow.Env{CallbackURL: cb, SeedreamModel: r.e.SeedreamModel})
		if errors.Is(err, workflow.ErrSkip) {
			st.Phase, r.t.Step = lepus.PhaseDone, st.Name+".skipped"
			return r.save(ctx)
		}
		if err != nil {
			var f *workflow.Failure
			if errors.As(err, &f) {
				return permanent(f.Code, f.Message, f.Retryable)
			}
			return permanent("internal", err.Error(), false)
		}
		if st.Request, err = json.Marshal(body); err != nil {
			return permanent("internal", fmt.Sprintf("encode %s request: %v", st.Name, err), false)
		}
		if st.Model == "" {
			st.Model = requestModel(st.Request)
		}
	}
	if st.Sync {
		return r.call(ctx, i, st, p)
	}
	if st.Slot != "" {
		ok, err := r.e.Store.SlotAcquire(ctx, &lepus.SlotAcquireParams{
			Pool: st.Slot, Capacity: r.e.Slots[st.Slot], Holder: slotHolder(r.t, st), TaskID: r.t.ID, Cost: max(st.SlotCost, 1),
		})
		if err != nil {
			return fmt.Errorf("acquire provider slot: %w", err)
		}
		if !ok {
			now := r.e.Now()
			if st.WaitingSince == nil {
				st.WaitingSince = &now
			} else if now.Sub(*st.WaitingSince) > MaxSlotWait {
				return permanent("no_provider_slot", fmt.Sprintf("no %s slot came free in %s; the task was stopped", st.Slot, MaxSlotWait), true)
			}
			r.t.Step = st.Name + ".waiting_for_slot"
			if err := r.save(ctx); err != nil {
				return err
			}
			return r.slotWait()
		}
		st.WaitingSince = nil
	}
	if st.SubmitAttempts > 0 {
		id, found, err := p.Find(ctx, st)
		if err != nil {
			return r.providerError(st, "reconcile", err)
		}
		if found {
			r.log.Info("adopted provider task from an earlier attempt", "stage", st.Name, "provider_task_id", id)
			return r.submitted(ctx, i, st, id)
		}
	}
	st.SubmitAttempts++
	r.t.Step = st.Name + ".submit"
	if err := r.save(ctx); err != nil {
		return err
	}
	id, err := p.Submit(ctx, st)
	if err != nil {
		if p.Classify(err) == OutcomeDuplicate {
			id, found, ferr := p.Find(ctx, st)
			if ferr == nil && found {
				return r.submitted(ctx, i, st, id)
			}
		}
		return r.providerError(st, "submit", err)
	}
	return r.submitted(ctx, i, st, id)
}

// call runs a synchronous stage: one provider call whose answer is kept, so
// the step is never repeated once it succeeded.
func (r *run) call(ctx context.Context, i int, st *lepus.Stage, p Provider) error {
	r.t.Step = st.Name + ".call"
	out, results, err := p.Call(ctx, st)
	if err != nil {
		return r.providerError(st, "call", err)
	}
	now := r.e.Now()
	st.Output, st.SubmittedAt, st.ProviderDoneAt, st.Phase = out, &now, &now, lepus.PhaseDone
	if len(results) > 0 {
		st.Results, st.Phase = results, lepus.PhaseCollect
	}
	r.t.Status = lepus.StatusProcessing
	if r.t.StartedAt == nil {
		r.t.StartedAt = &now
	}
	r.t.Step = st.Name + ".done"
	r.t.Progress = r.progress(i, 1)
	r.log.Info("provider call answered", "stage", st.Name)
	return r.save(ctx)
}

func (r *run) submitted(ctx context.Context, i int, st *lepus.Stage, providerTaskID string) error {
	now := r.e.Now()
	st.ProviderTaskID = providerTaskID
	st.SubmittedAt = &now
	st.Phase = lepus.PhaseWait
	r.t.Status = lepus.StatusProcessing
	if r.t.StartedAt == nil {
		r.t.StartedAt = &now
	}
	r.t.Step = st.Name + ".wait"
	r.t.Progress = r.progress(i, 0.15)
	r.log.Info("provider task submitted", "stage", st.Name, "provider_task_id", providerTaskID)
	return r.save(ctx) // the first poll follows at once and records the wait (watched)
}

// watched records (once; again after a crash or an upgrade, harmlessly)
// that the stage waits on its provider task, for the provider's watcher.
// It reports whether the watcher covers the stage; if not, the stage polls
// at its own interval.
func (r *run) watched(ctx context.Context, st *lepus.Stage) bool {
	if r.e.Watchers[st.Provider] == nil || st.SubmittedAt == nil {
		return false
	}
	err := r.e.Store.WaitAdd(ctx, &lepus.ProviderWait{Provider: st.Provider, Endpoint: st.Endpoint,
		ProviderTaskID: st.ProviderTaskID, TaskID: r.t.ID, Stage: st.Name, Model: st.Model, SubmittedAt: *st.SubmittedAt,
		JobID: r.t.JobID})
	if err != nil {
		r.log.Warn("record provider wait; the stage polls alone", "stage", st.Name, "error", err)
		return false
	}
	return true
}

// spaced keeps a Spacer provider's spacing: it snoozes until the spacing
// since the last request about the stage has passed, else records (and
// saves) this request's time before it is sent, so neither a retry nor a
// restart can ask sooner.
func (r *run) spaced(ctx context.Context, st *lepus.Stage, p Provider) error {
	sp, ok := p.(Spacer)
	if !ok {
		return nil
	}
	now := r.e.Now()
	if st.AskedAt != nil {
		if d := st.AskedAt.Add(sp.MinSpacing()).Sub(now); d > 0 {
			return &snoozeError{d: d + sp.MinSpacing()/20} // a margin for the way there
		}
	}
	st.AskedAt = &now
	return r.save(ctx)
}

// waited forgets the stage's wait for the watcher.
func (r *run) waited(ctx context.Context, st *lepus.Stage) {
	if r.e.Watchers[st.Provider] == nil {
		return
	}
	if err := r.e.Store.WaitDelete(ctx, r.t.ID, st.Name); err != nil {
		r.log.Warn("forget provider wait", "stage", st.Name, "error", err)
	}
}

// wait polls the provider once; while it runs, the job snoozes a poll interval.
func (r *run) wait(ctx context.Context, i int, st *lepus.Stage) error {
	p, err := r.provider(st)
	if err != nil {
		return err
	}
	if err := r.spaced(ctx, st, p); err != nil {
		return err
	}
	res, err := p.Poll(ctx, st)
	if err != nil {
		return r.providerError(st, "poll", err)
	}
	st.Polls++
	if res.State != PollRunning {
		now := r.e.Now()
		st.ProviderDoneAt = &now
		r.waited(ctx, st)
	}
	switch res.State {
	case PollSucceeded:
		st.Results = res.Results
		st.Phase = lepus.PhaseCollect
		if res.RetrieveAfter > 0 {
			at := r.e.Now().Add(res.RetrieveAfter)
			st.ReadyAt = &at
		}
		r.t.Step = st.Name + ".collect"
		r.t.Progress = r.progress(i, 0.8)
		if err := r.save(ctx); err != nil {
			return err
		}
		r.releaseSlot(ctx, st)
		r.e.handover(ctx)
		return nil
	case PollFailed:
		r.releaseSlot(ctx, st)
		return permanent(cmp.Or(res.Code, "provider_failed"), fmt.Sprintf("%s failed the %s step: %s", st.Provider, st.Name, res.Message), false)
	}
	if err := r.checkSoftLimit(); err != nil {
		r.releaseSlot(ctx, st)
		return err
	}
	pol := r.def.Policy
	if st.PollInterval > 0 {
		pol.PollInterval = st.PollInterval
	}
	if st.MaxPolls > 0 {
		pol.MaxPolls = st.MaxPolls
	}
	// The provider's budget is the old poll loop's: MaxPolls intervals.
	budget := pol.PollInterval * time.Duration(pol.MaxPolls)
	waited := r.e.Now().Sub(*st.SubmittedAt)
	if pol.MaxPolls > 0 && waited >= budget {
		r.releaseSlot(ctx, st)
		return permanent("provider_timeout", fmt.Sprintf("%s did not finish the %s step within %s; the task was stopped",
			st.Provider, st.Name, budget), true)
	}
	// Creep toward the "done" milestone so clients see movement.
	frac := 0.15 + 0.65*float64(st.Polls)/float64(st.Polls+6)
	r.t.Progress = r.progress(i, frac)
	if err := r.save(ctx); err != nil {
		return err
	}
	next := pol.PollInterval
	if r.watched(ctx, st) {
		if st.Polls == 1 {
			r.e.Watchers[st.Provider].Notify() // a new wait: look at it soon
		}
		next = watchSafety(pol.PollInterval)
		if pol.MaxPolls > 0 {
			next = max(min(next, budget-waited), pol.PollInterval)
		}
	}
	return snooze(next)
}

func (r *run) releaseSlot(ctx context.Context, st *lepus.Stage) {
	if st.Slot == "" {
		return
	}
	if err := r.e.Store.SlotRelease(ctx, slotHolder(r.t, st)); err != nil {
		r.log.Warn("release provider slot", "error", err)
	}
}

// providerError decides between retry, wait and failure for a provider error.
func (r *run) providerError(st *lepus.Stage, op string, err error) error {
	p, _ := r.provider(st)
	switch p.Classify(err) {
	case OutcomeBusy:
		r.log.Info("provider has no free slot; waiting", "stage", st.Name, "op", op)
		return r.busyWait()
	case OutcomeReject:
		return permanent("provider_rejected", fmt.Sprintf("%s rejected the %s request: %v", st.Provider, st.Name, err), false)
	case OutcomeAccount:
		r.log.Error("ALERT provider account cannot run tasks", "stage", st.Name, "error", err)
		return permanent("provider_account", fmt.Sprintf("%s account problem: %v", st.Provider, err), true)
	case OutcomeAuth:
		r.log.Error("ALERT provider refused Lepus's credentials", "stage", st.Name, "error", err)
		return permanent("provider_auth", fmt.Sprintf("%s refused Lepus's credentials; check the provider keys: %v", st.Provider, err), true)
	case OutcomeNotFound:
		if op == "poll" {
			return permanent("provider_lost", fmt.Sprintf("%s no longer knows the %s task %s", st.Provider, st.Name, st.ProviderTaskID), true)
		}
	}
	return fmt.Errorf("%s %s: %w", st.Name, op, err)
}

func (r *run) provider(st *lepus.Stage) (Provider, error) {
	p := r.e.Providers[st.Provider]
	if p == nil {
		return nil, permanent("internal", fmt.Sprintf("no provider %q configured", st.Provider), false)
	}
	return p, nil
}

// progress maps a fraction of stage i onto the task's 0–100 scale. Stages
// with a provider task share the scale equally; synchronous calls are quick
// and move nothing.
func (r *run) progress(i int, frac float64) int {
	var total, before float64
	for j, st := range r.t.Stages {
		if !st.Sync {
			total++
			if j < i {
				before++
			}
		}
	}
	if total == 0 || r.t.Stages[i].Sync {
		return r.t.Progress
	}
	p := int((before + frac) / total * 100)
	return max(r.t.Progress, min(p, 99))
}

func slotHolder(t *lepus.Task, st *lepus.Stage) string { return holderOf(t.ID, st.Name) }

// holderOf names a stage's hold on a provider slot.
func holderOf(taskID, stage string) string { return taskID + "/" + stage }
