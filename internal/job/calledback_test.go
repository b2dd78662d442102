package job_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// pollOnly is a provider whose tasks are in the states it was given; it
// counts the polls.
type pollOnly struct {
	state map[string]job.PollState // provider task id → state
	polls int
}

func (p *pollOnly) Submit(context.Context, *lepus.Stage) (string, error) { return "", nil }
func (p *pollOnly) Call(context.Context, *lepus.Stage) (json.RawMessage, []lepus.Result, error) {
	return nil, nil, nil
}
func (p *pollOnly) Find(context.Context, *lepus.Stage) (string, bool, error) { return "", false, nil }
func (p *pollOnly) Classify(error) job.Outcome                               { return job.Outcome(0) }
func (p *pollOnly) Poll(_ context.Context, st *lepus.Stage) (*job.PollResult, error) {
	p.polls++
	return &job.PollResult{State: p.state[st.ProviderTaskID]}, nil
}

// A callback frees the slot of a provider task that re-querying shows
// ended, at once (the next task in line need not wait for the ended
// task's own job); a callback for a task still running frees nothing.
func TestEngine_CalledBackFreesTheSlot(t *testing.T) {
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, _ := sqlstoretest.Open(t, dialect)
			prov := &pollOnly{state: map[string]job.PollState{"p1": job.PollSucceeded, "p2": job.PollRunning}}
			e := &job.Engine{Store: s, Providers: map[string]job.Provider{"kling": prov}, Logger: slog.New(slog.DiscardHandler)}
			tasks := map[string]*lepus.Task{}
			for i := 1; i <= 2; i++ {
				id := fmt.Sprintf("tsk_%d", i)
				task := &lepus.Task{ID: id, UserID: "u", Type: "face_swap", Status: lepus.StatusPending, CallbackToken: "cb" + id,
					Stages: []lepus.Stage{{Name: "image", Provider: "kling", Phase: lepus.PhaseWait, Slot: "kling-image",
						ProviderTaskID: fmt.Sprintf("p%d", i)}}}
				if _, _, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: task, Grant: 10}); err != nil {
					t.Fatal(err)
				}
				if ok, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling-image", Capacity: 2,
					Holder: id + "/image", TaskID: id, Cost: 1}); err != nil || !ok {
					t.Fatalf("acquire %s: %v, %v", id, ok, err)
				}
				tasks[id] = task
			}
			e.CalledBack(ctx, tasks["tsk_2"]) // still running at the provider
			if used, _ := s.SlotUsage(ctx, "kling-image"); used != 2 {
				t.Fatalf("%d slots in use after a callback for a running task, want 2", used)
			}
			e.CalledBack(ctx, tasks["tsk_1"]) // ended
			if used, _ := s.SlotUsage(ctx, "kling-image"); used != 1 {
				t.Fatalf("%d slots in use after a callback for an ended task, want 1", used)
			}
			if prov.polls != 2 {
				t.Fatalf("%d provider queries for two callbacks, want 2 (a callback is re-queried, never trusted)", prov.polls)
			}
		})
	}
}
