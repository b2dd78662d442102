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

// Args are the job arguments of every workflow: the task id. The kind, a
// type parameter, names the workflow, so each workflow is its own job kind
// (visible as such in River UI) served by the same worker.
type Args[K kind] struct {
	TaskID string `json:"task_id"`
}

// Kind is the workflow's task type.
func (Args[K]) Kind() string { var k K; return k.name() }

type kind interface{ name() string }

// One job kind per workflow. A new workflow adds a type here and a line in Register.
type (
	faceSwapKind          struct{}
	imageToVideoKind      struct{}
	textToVideoKind       struct{}
	multiImageToVideoKind struct{}
	lipSyncKind           struct{}
	motionControlKind     struct{}
	videoExtendKind       struct{}
	imageGenerationKind   struct{}
	omniImageKind         struct{}
	enhanceStyleKind      struct{}
	avatarPortraitsKind   struct{}
	avatarAnglesKind      struct{}
)

func (faceSwapKind) name() string          { return "face_swap" }
func (imageToVideoKind) name() string      { return "image_to_video" }
func (textToVideoKind) name() string       { return "text_to_video" }
func (multiImageToVideoKind) name() string { return "multi_image_to_video" }
func (lipSyncKind) name() string           { return "lip_sync" }
func (motionControlKind) name() string     { return "motion_control" }
func (videoExtendKind) name() string       { return "video_extend" }
func (imageGenerationKind) name() string   { return "image_generation" }
func (omniImageKind) name() string         { return "omni_image" }
func (enhanceStyleKind) name() string      { return "enhance_style" }
func (avatarPortraitsKind) name() string   { return "avatar_confirm_portraits" }
func (avatarAnglesKind) name() string      { return "avatar_reference_angles" }

// worker runs one job kind through the engine.
type worker[K kind] struct {
	river.WorkerDefaults[Args[K]]
	e      *Engine
	policy workflow.Policy
	def    time.Duration
}

func (w *worker[K]) Work(ctx context.Context, j *river.Job[Args[K]]) (err error) {
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
func (w *worker[K]) Timeout(*river.Job[Args[K]]) time.Duration {
	if w.policy.HardLimit > 0 {
		return min(w.policy.HardLimit, w.def)
	}
	return w.def
}

// Kinds maps task types to job inserts, and registers their workers.
type Kinds struct {
	insert map[string]func(taskID string) river.JobArgs
	policy map[string]workflow.Policy
	// Sweeper finishes tasks whose job died; give it the client once built.
	Sweeper *Sweeper
}

// Register adds a worker for every workflow to workers and returns the
// kinds for inserting. It fails if a workflow has no job kind.
// jobTimeout is the queue's per-run timeout (DefaultJobTimeout if zero).
func Register(workers *river.Workers, e *Engine, reg *workflow.Registry, jobTimeout time.Duration) (*Kinds, error) {
	defaultTimeout := cmp.Or(jobTimeout, DefaultJobTimeout)
	k := &Kinds{insert: map[string]func(string) river.JobArgs{}, policy: map[string]workflow.Policy{}, Sweeper: &Sweeper{Engine: e}}
	if workers != nil {
		river.AddWorker[SweepArgs](workers, k.Sweeper)
	}
	add(workers, e, reg, k, faceSwapKind{}, defaultTimeout)
	add(workers, e, reg, k, imageToVideoKind{}, defaultTimeout)
	add(workers, e, reg, k, textToVideoKind{}, defaultTimeout)
	add(workers, e, reg, k, multiImageToVideoKind{}, defaultTimeout)
	add(workers, e, reg, k, lipSyncKind{}, defaultTimeout)
	add(workers, e, reg, k, motionControlKind{}, defaultTimeout)
	add(workers, e, reg, k, videoExtendKind{}, defaultTimeout)
	add(workers, e, reg, k, imageGenerationKind{}, defaultTimeout)
	add(workers, e, reg, k, omniImageKind{}, defaultTimeout)
	add(workers, e, reg, k, enhanceStyleKind{}, defaultTimeout)
	add(workers, e, reg, k, avatarPortraitsKind{}, defaultTimeout)
	add(workers, e, reg, k, avatarAnglesKind{}, defaultTimeout)
	for _, t := range reg.Types() {
		if k.insert[t] == nil {
			return nil, fmt.Errorf("job: workflow %q has no job kind", t)
		}
	}
	return k, nil
}

func add[K kind](workers *river.Workers, e *Engine, reg *workflow.Registry, k *Kinds, kd K, def time.Duration) {
	d := reg.Get(kd.name())
	if d == nil {
		return
	}
	if workers != nil {
		river.AddWorker[Args[K]](workers, &worker[K]{e: e, policy: d.Policy, def: def})
	}
	k.insert[kd.name()] = func(id string) river.JobArgs { return Args[K]{TaskID: id} }
	k.policy[kd.name()] = d.Policy
}

// Enqueue returns the lepus.TaskCreateParams.Enqueue function: it inserts
// the task's job in the task's transaction.
func (k *Kinds) Enqueue(c *Client) func(ctx context.Context, tx *sql.Tx, t *lepus.Task) (int64, error) {
	return func(ctx context.Context, tx *sql.Tx, t *lepus.Task) (int64, error) {
		mk := k.insert[t.Type]
		if mk == nil {
			return 0, fmt.Errorf("enqueue: no job kind for %q", t.Type)
		}
		res, err := c.InsertTx(ctx, tx, mk(t.ID), &river.InsertOpts{
			Queue: QueueName, MaxAttempts: k.policy[t.Type].MaxRetries + 1,
		})
		if err != nil {
			return 0, fmt.Errorf("enqueue %s: %w", t.Type, err)
		}
		return res.Job.ID, nil
	}
}
