package metrics

import (
	"context"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Store is a lepus.Store that counts tasks as they are accepted and as
// they end. Every task starts in Store.TaskCreate and ends, exactly once,
// in Store.TaskFinish (the engine, the sweeper and cancels alike), so this
// decorator sees each lifecycle once without hooks in the engine; it
// records after the store committed.
type Store struct {
	lepus.Store
	M *Metrics
}

var _ lepus.Store = (*Store)(nil)

// TaskCreate counts an accepted task and its debit (not an idempotent
// replay, which returns an existing task).
func (s *Store) TaskCreate(ctx context.Context, p *lepus.TaskCreateParams) (*lepus.Task, bool, error) {
	t, created, err := s.Store.TaskCreate(ctx, p)
	if err == nil && created {
		s.M.TaskCreated(t)
	}
	return t, created, err
}

// TaskFinish records the end of a task: its status, durations, polls and
// refund.
func (s *Store) TaskFinish(ctx context.Context, p *lepus.TaskFinishParams) (*lepus.Task, error) {
	t, err := s.Store.TaskFinish(ctx, p)
	if err == nil && t != nil {
		s.M.TaskEnded(t, p.Refund)
	}
	return t, err
}

// CheckMigrated forwards the wrapped store's schema check, which /readyz
// looks for on the store it is given.
func (s *Store) CheckMigrated(ctx context.Context) error {
	if c, ok := s.Store.(interface{ CheckMigrated(context.Context) error }); ok {
		return c.CheckMigrated(ctx)
	}
	return nil
}

// TaskCreated counts a newly accepted task and the credits it debited.
func (m *Metrics) TaskCreated(t *lepus.Task) {
	if m == nil {
		return
	}
	m.tasksCreated.WithLabelValues(t.Type).Inc()
	if t.Cost > 0 {
		m.creditsDebit.WithLabelValues(t.Type).Add(float64(t.Cost))
	}
}

// TaskEnded records a task that just ended, from its own timestamps and
// stages: the count by status, how long it queued, how long each stage
// was at its provider and being collected, its total time, its polls and
// what was refunded (refund: the partial refund asked of a completed task;
// failed and canceled tasks get their whole cost back, as the store does).
func (m *Metrics) TaskEnded(t *lepus.Task, refund int) {
	if m == nil {
		return
	}
	wf, main := t.Type, mainProvider(t)
	m.tasksEnded.WithLabelValues(t.Type, string(t.Status)).Inc()
	if t.StartedAt != nil {
		m.queued.WithLabelValues(wf, main).Observe(seconds(t.StartedAt.Sub(t.CreatedAt)))
	}
	if t.FinishedAt != nil {
		m.total.WithLabelValues(wf, main, string(t.Status)).Observe(seconds(t.FinishedAt.Sub(t.CreatedAt)))
	}
	stored := lastStored(t.Assets)
	for _, st := range t.Stages {
		if st.Polls > 0 {
			m.polls.WithLabelValues(wf, st.Provider).Add(float64(st.Polls))
		}
		if st.SubmittedAt == nil || st.ProviderDoneAt == nil {
			continue
		}
		m.atProvider.WithLabelValues(wf, st.Provider).Observe(seconds(st.ProviderDoneAt.Sub(*st.SubmittedAt)))
		if at, ok := stored[st.Name]; ok {
			m.collecting.WithLabelValues(wf, st.Provider).Observe(seconds(at.Sub(*st.ProviderDoneAt)))
		}
	}
	switch {
	case t.Cost <= 0:
	case t.Status != lepus.StatusCompleted:
		m.creditsRefund.WithLabelValues(t.Type).Add(float64(t.Cost))
	case refund > 0:
		m.creditsRefund.WithLabelValues(t.Type).Add(float64(min(refund, t.Cost)))
	}
}

// mainProvider is the provider doing a task's main work, the label of its
// task-wide durations: that of its first stage with a provider task to
// wait on (a synchronous LLM or face-identify call only prepares it), else
// of its first stage.
func mainProvider(t *lepus.Task) string {
	for _, st := range t.Stages {
		if !st.Sync && st.Provider != "" {
			return st.Provider
		}
	}
	if len(t.Stages) > 0 {
		return t.Stages[0].Provider
	}
	return ""
}

// lastStored maps each stage to when its last result was stored: the end
// of its collect phase.
func lastStored(assets []lepus.Asset) map[string]time.Time {
	out := map[string]time.Time{}
	for _, a := range assets {
		if a.CreatedAt.After(out[a.Stage]) {
			out[a.Stage] = a.CreatedAt
		}
	}
	return out
}

// seconds is d in seconds, never negative (clocks of two processes may
// disagree by a little).
func seconds(d time.Duration) float64 {
	return max(d.Seconds(), 0)
}
