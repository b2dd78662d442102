package job

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Crash recovery. Every process that runs jobs is River client ProcessID
// (so a running job's last attempted_by names its process) and keeps a
// heartbeat in lepus_process. A job left running by a process whose
// heartbeat lapsed — killed, or cut off from the database — is handed back
// to the queue within seconds, with its attempt given back: an interrupted
// run is not a failed one. River's own rescuer (RescueStuckJobsAfter) stays
// as the last safety net.

// Rescue timings: a heartbeat every BeatInterval; a process is dead after
// LeaseLapse without one. A job is back within LeaseLapse + BeatInterval.
const (
	BeatInterval = 2 * time.Second
	LeaseLapse   = 10 * time.Second
	// ownOrphanAfter is how long a job may stay running in the database
	// under this process while this process does not run it before it is
	// handed back: River could not record how the run ended (its completer
	// gives up after three tries, about 3 s when the database refuses
	// connections, as in an outage). Longer than that; short enough that
	// tasks go on within seconds of the database's return.
	ownOrphanAfter = 15 * time.Second
)

// Running is the set of jobs this process is working right now.
type Running struct {
	mu  sync.Mutex
	ids map[int64]struct{}
}

func (r *Running) add(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[int64]struct{}{}
	}
	r.ids[id] = struct{}{}
}

func (r *Running) remove(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ids, id)
}

func (r *Running) has(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

// Rescuer keeps this process's heartbeat and hands back the jobs of dead
// processes. Start launches its loop; Stop ends it and removes the process.
type Rescuer struct {
	Store     lepus.Store
	Client    *Client
	DB        *sql.DB
	Dialect   string
	Process   lepus.Process
	Running   *Running
	Waker     *Waker
	Logger    *slog.Logger
	Exclusive bool // this process holds the database alone (SQLite's lock)

	orphanSince map[int64]time.Time
	// healthySince is when this process's heartbeats started succeeding
	// without a break: it judges others dead only after beating well itself
	// for LeaseLapse (after a database outage every lease looks lapsed).
	healthySince time.Time
	cancel       context.CancelFunc
	done         chan struct{}
	stopOnce     sync.Once
}

// Start beats once (so the process is known before it fetches any job),
// hands back what dead processes left running, and starts the loop.
func (r *Rescuer) Start(ctx context.Context) error {
	r.orphanSince = map[int64]time.Time{}
	if err := r.Store.ProcessBeat(ctx, &r.Process); err != nil {
		return err
	}
	r.healthySince = time.Now()
	if r.Exclusive {
		if err := r.Store.ProcessDelete(ctx, "", r.Process.ID); err != nil {
			return err
		}
	}
	if _, err := r.RunOnce(ctx); err != nil {
		return err
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	go r.loop(ctx)
	return nil
}

func (r *Rescuer) loop(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(BeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.Store.ProcessBeat(ctx, &r.Process); err != nil {
			r.Logger.Warn("process heartbeat", "error", err)
			r.healthySince = time.Time{}
			continue
		}
		if r.healthySince.IsZero() {
			r.healthySince = time.Now()
		}
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.Logger.Warn("rescue jobs", "error", err)
		}
	}
}

// Stop ends the loop and removes the process, so others need not wait for
// its heartbeat to lapse. Safe to call twice.
func (r *Rescuer) Stop(ctx context.Context) {
	r.stopOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
		if err := r.Store.ProcessDelete(ctx, r.Process.ID, ""); err != nil {
			r.Logger.Warn("remove process", "error", err)
		}
	})
}

// RunOnce hands back every running job whose process is not alive, and
// this process's own jobs that it no longer runs. It returns their ids.
func (r *Rescuer) RunOnce(ctx context.Context) ([]int64, error) {
	live, err := r.Store.ProcessLive(ctx, LeaseLapse)
	if err != nil {
		return nil, err
	}
	live[r.Process.ID] = true
	res, err := r.Client.JobList(ctx, river.NewJobListParams().
		States(rivertype.JobStateRunning).Queues(QueueName).First(10000))
	if err != nil {
		return nil, fmt.Errorf("list running jobs: %w", err)
	}
	now := time.Now()
	// On SQLite this process holds the database alone: every other process
	// is gone. Elsewhere, judge others only after beating well for a lapse.
	judgeOthers := r.Exclusive || now.Sub(r.healthySince) >= LeaseLapse
	seen := map[int64]bool{}
	var back []int64
	for _, j := range res.Jobs {
		seen[j.ID] = true
		owner := ""
		if n := len(j.AttemptedBy); n > 0 {
			owner = j.AttemptedBy[n-1]
		}
		switch {
		case owner != r.Process.ID && !live[owner] && judgeOthers:
		case owner == r.Process.ID && !r.Running.has(j.ID):
			first, ok := r.orphanSince[j.ID]
			if !ok {
				r.orphanSince[j.ID] = now
				continue
			}
			if now.Sub(first) < ownOrphanAfter {
				continue
			}
		case owner != r.Process.ID:
			continue
		default:
			delete(r.orphanSince, j.ID)
			continue
		}
		ok, err := r.handBack(ctx, j)
		if err != nil {
			return back, err
		}
		delete(r.orphanSince, j.ID)
		if ok {
			r.Logger.Info("resumed a job its process left running", "job_id", j.ID, "process", owner)
			back = append(back, j.ID)
		}
	}
	for id := range r.orphanSince {
		if !seen[id] {
			delete(r.orphanSince, id)
		}
	}
	if len(back) > 0 {
		r.Waker.Kick(ctx)
	}
	return back, nil
}

// handBack makes a job that is still in the run it was seen in available
// now, giving its attempt back.
//
// The run is named by its attempt and its start (attempted_at): after a
// hand-back the next run has the same attempt number, so the attempt alone
// would let a second rescuer working from an older list hand back a live run.
func (r *Rescuer) handBack(ctx context.Context, j *rivertype.JobRow) (bool, error) {
	if j.AttemptedAt == nil {
		return false, nil
	}
	now, started := "now()", any(*j.AttemptedAt)
	if r.Dialect == "sqlite" {
		// River keeps SQLite times as text at millisecond precision.
		now, started = "datetime('now', 'subsec')", j.AttemptedAt.UTC().Format("2006-01-02 15:04:05.000")
	}
	res, err := r.DB.ExecContext(ctx, `UPDATE river_job SET state = 'available',
		attempt = CASE WHEN attempt > 0 THEN attempt - 1 ELSE 0 END, scheduled_at = `+now+`
		WHERE id = $1 AND state = 'running' AND attempt = $2 AND attempted_at = $3`, j.ID, j.Attempt, started)
	if err != nil {
		return false, fmt.Errorf("hand back job %d: %w", j.ID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
