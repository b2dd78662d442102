package job

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/riverqueue/river"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// Args are the job arguments of every workflow: the task id. Each workflow
// is its own job kind (visible as such in River UI), named by its task type
// (workflow.Definition.Type), and served by the same worker.
type Args struct {
	TaskID string `json:"task_id"`
	// kind is set on the args a worker is registered with and on every
	// insert; a job being worked has it empty, as nothing reads it there.
	kind string
}

// Kind is the workflow's task type.
func (a Args) Kind() string { return a.kind }

// worker runs one workflow's jobs through the engine.
type worker struct {
	river.WorkerDefaults[Args]
	e      *Engine
	policy workflow.Policy
	def    time.Duration
}

func (w *worker) Work(ctx context.Context, j *river.Job[Args]) (err error) {
	w.e.Running.add(j.ID)
	defer w.e.Running.remove(j.ID)
	defer func() {
		if v := recover(); v != nil {
			w.e.Logger.Error("panic in task", "task_id", j.Args.TaskID, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
			if j.Attempt >= j.MaxAttempts {
				err = w.e.failLost(ctx, j.Args.TaskID, "an internal error (logged) stopped it")
			}
		}
	}()
	return w.e.Run(ctx, j.Args.TaskID, j.Attempt, j.MaxAttempts)
}

// Timeout bounds one run: the queue's job timeout, or the workflow's hard
// limit if that is shorter.
func (w *worker) Timeout(*river.Job[Args]) time.Duration {
	if w.policy.HardLimit > 0 {
		return min(w.policy.HardLimit, w.def)
	}
	return w.def
}

// Kinds maps task types to job kinds and their queue policies.
type Kinds struct {
	policy map[string]workflow.Policy
	// Sweeper finishes tasks whose job died; give it the client once built.
	Sweeper *Sweeper
}

// Register adds a worker for every workflow of reg to workers (nil: none,
// for a process that only inserts) and returns the kinds for inserting.
// The kinds are the registry's types, so no workflow is left without a
// worker; a type that is already another job's kind is refused.
// jobTimeout is the queue's per-run timeout (DefaultJobTimeout if zero).
func Register(workers *river.Workers, e *Engine, reg *workflow.Registry, jobTimeout time.Duration) (*Kinds, error) {
	defaultTimeout := cmp.Or(jobTimeout, DefaultJobTimeout)
	k := &Kinds{policy: map[string]workflow.Policy{}, Sweeper: &Sweeper{Engine: e}}
	if workers != nil {
		river.AddWorker[SweepArgs](workers, k.Sweeper)
	}
	for _, d := range reg.Definitions() {
		if workers != nil {
			if err := addWorker(workers, Args{kind: d.Type}, &worker{e: e, policy: d.Policy, def: defaultTimeout}); err != nil {
				return nil, fmt.Errorf("job: workflow %q: %w", d.Type, err)
			}
		}
		k.policy[d.Type] = d.Policy
	}
	return k, nil
}

// addWorker registers w for the kind of args. River's AddWorker takes the
// kind from the args type; AddWorkerArgs takes it from a value, so one Go
// type serves every workflow. (River's doc calls AddWorkerArgs meant for
// its own tests; should it go, the way back is one Args type per workflow.)
// It panics on a kind registered twice (a workflow named like another job
// kind); that becomes an error here.
func addWorker(workers *river.Workers, args Args, w *worker) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	river.AddWorkerArgs(workers, args, w)
	return nil
}

// Enqueue returns the lepus.TaskCreateParams.Enqueue function: it inserts
// the task's job in the task's transaction.
func (k *Kinds) Enqueue(c *Client) func(ctx context.Context, tx *sql.Tx, t *lepus.Task) (int64, error) {
	return func(ctx context.Context, tx *sql.Tx, t *lepus.Task) (int64, error) {
		policy, ok := k.policy[t.Type]
		if !ok {
			return 0, fmt.Errorf("enqueue: no job kind for %q", t.Type)
		}
		res, err := c.InsertTx(ctx, tx, Args{TaskID: t.ID, kind: t.Type}, &river.InsertOpts{
			Queue: QueueName, MaxAttempts: policy.MaxRetries + 1,
		})
		if err != nil {
			return 0, fmt.Errorf("enqueue %s: %w", t.Type, err)
		}
		return res.Job.ID, nil
	}
}
