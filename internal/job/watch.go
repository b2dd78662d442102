package job

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Batch polling. A provider with a task list (Kling: GET {create_path}?
// pageNum&pageSize, newest first, up to 500 a page) is watched by one loop
// per process: it reads which provider tasks Lepus waits on (provider_wait),
// pages through each endpoint's list and wakes only the tasks whose provider
// task ended. That costs O(in flight / 500) requests per look instead of one
// per task. It looks when a task is due: near the latency the endpoint and
// model have shown so far, then at short intervals. A waiting task's own
// job polls alone only as the slower safety net (see watchSafety), and for
// tasks the list no longer shows.

// Lister is implemented by providers that can list their tasks.
type Lister interface {
	// List returns one page of the tasks created through endpoint, newest
	// first.
	List(ctx context.Context, endpoint string, page, size int) ([]ListedTask, error)
}

// ListedTask is one entry of a provider's task list.
type ListedTask struct {
	ID        string
	Ended     bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// listPageSize is Kling's largest page; listMaxPages its last page number.
const (
	listPageSize = 500
	listMaxPages = 1000
)

// Watcher watches one provider's task lists. Start launches its loop; Stop
// ends it. Notify tells it a new wait was recorded.
type Watcher struct {
	Store    lepus.Store
	Provider string
	Lister   Lister
	// Wake makes the jobs of tasks the list no longer shows run now (they
	// ask the provider alone), and those of ended tasks when Ended is nil.
	Wake func(ctx context.Context, jobIDs ...int64)
	// Ended, if set, is told of the waits whose provider task ended: the
	// provider's slot is free from that moment, so it can be handed over
	// before the ended task's own job has run (Engine.ProviderEnded).
	Ended func(ctx context.Context, ended []lepus.ProviderWait)
	// Interval is the short interval between looks while tasks are due.
	// Default 1 s.
	Interval time.Duration
	// Idle is how often to look for new waits when none is known (a wait
	// recorded by this process notifies at once). Default 2 s.
	Idle   time.Duration
	Logger *slog.Logger
	Now    func() time.Time

	initOnce sync.Once
	notify   chan struct{}
	latency  map[string]time.Duration // typical provider latency by endpoint and model
	woken    map[string]time.Time     // provider task id → when last woken
	rested   time.Time                // no look before this, even when notified (lookGap at a fifth)
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

// init sets the defaults once: Notify may come from any worker while Start
// runs.
func (w *Watcher) init() {
	w.initOnce.Do(func() {
		w.notify = make(chan struct{}, 1)
		w.latency = map[string]time.Duration{}
		w.woken = map[string]time.Time{}
		w.Interval = cmp.Or(w.Interval, time.Second)
		w.Idle = cmp.Or(w.Idle, 2*time.Second)
		if w.Now == nil {
			w.Now = time.Now
		}
	})
}

// Start launches the loop.
func (w *Watcher) Start(ctx context.Context) {
	w.init()
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.done = make(chan struct{})
	go w.loop(ctx)
}

// Stop ends the loop and waits for it. Safe to call twice.
func (w *Watcher) Stop() {
	w.stopOnce.Do(func() {
		if w.cancel != nil {
			w.cancel()
			<-w.done
		}
	})
}

// Notify says a wait was just recorded.
func (w *Watcher) Notify() {
	w.init()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	next := time.Duration(0)
	for {
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.notify:
			t.Stop()
			// A new wait is looked at soon, but not before the last look's
			// gap has passed: while tasks are submitted every few
			// milliseconds, notices would otherwise run looks back to back.
			if d := time.Until(w.rested); d > 0 {
				next = d
				continue
			}
		case <-t.C:
		}
		var err error
		next, err = w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Logger.Warn("watch provider tasks", "provider", w.Provider, "error", err)
			next = w.Idle
		}
	}
}

// RunOnce looks at every endpoint with a due task, wakes the tasks that
// ended, and returns how long to wait before the next look.
func (w *Watcher) RunOnce(ctx context.Context) (time.Duration, error) {
	w.init()
	started := time.Now()
	waits, err := w.Store.WaitList(ctx, w.Provider)
	if err != nil {
		return 0, err
	}
	if len(waits) == 0 {
		return w.Idle, nil
	}
	now := w.Now()
	byEndpoint := map[string][]lepus.ProviderWait{}
	for _, wt := range waits {
		byEndpoint[wt.Endpoint] = append(byEndpoint[wt.Endpoint], wt)
	}
	next := w.Idle
	var ended []lepus.ProviderWait
	var wake []int64
	for endpoint, ws := range byEndpoint {
		due := false
		for _, wt := range ws {
			at := wt.SubmittedAt.Add(w.latency[latencyKey(endpoint, wt.Model)] * 8 / 10)
			if !now.Before(at) {
				due = true
				break
			}
			next = min(next, at.Sub(now))
		}
		if !due {
			continue
		}
		done, unlisted, err := w.scan(ctx, endpoint, ws, now)
		if err != nil {
			// The list failed: the due tasks ask for themselves instead.
			w.Logger.Warn("list provider tasks; waking the due tasks", "provider", w.Provider, "endpoint", endpoint, "error", err)
			for _, wt := range ws {
				if !now.Before(wt.SubmittedAt.Add(w.latency[latencyKey(endpoint, wt.Model)]*8/10)) && w.wakeOnce(wt, now) {
					unlisted = append(unlisted, wt.JobID)
				}
			}
		}
		ended = append(ended, done...)
		wake = append(wake, unlisted...)
		next = min(next, w.Interval)
	}
	for id, at := range w.woken {
		if now.Sub(at) > time.Minute {
			delete(w.woken, id)
		}
	}
	if len(ended) > 0 {
		if w.Ended != nil {
			w.Ended(ctx, ended)
		} else {
			for _, wt := range ended {
				wake = append(wake, wt.JobID)
			}
		}
	}
	if len(wake) > 0 {
		w.Wake(ctx, wake...)
	}
	took := time.Since(started)
	// A notice of a new wait may bring the next look forward to a fifth of
	// the time (new tasks are worth a look), the timer waits the full gap.
	w.rested = time.Now().Add(lookGap(took, w.Interval, true))
	return max(next, 10*time.Millisecond, lookGap(took, w.Interval, len(ended)+len(wake) > 0)), nil
}

// lookGap is the least time between two looks, after one that took took.
// With very many tasks in flight a look takes long (a page per 500): while
// tasks are ending, look at most a fifth of the time but never leave more
// than twenty intervals (the poll interval) between looks, so an ended task
// is seen within a poll interval and a look. After a look that found
// nothing ended, look at most a tenth of the time, cap or not: then every
// task is still running, and it is the waiting that costs (at 100,000 in
// flight a look takes seconds, and a capped gap would be looking a third
// of the time).
func lookGap(took, interval time.Duration, found bool) time.Duration {
	if !found {
		return 9 * took
	}
	return min(4*took, 20*interval)
}

// scan pages through an endpoint's list until every waited task was seen
// or the list is older than the oldest of them, and returns the waits
// whose task ended, and the jobs of tasks the list no longer shows (their
// own job asks the provider about them alone).
func (w *Watcher) scan(ctx context.Context, endpoint string, ws []lepus.ProviderWait, now time.Time) (ended []lepus.ProviderWait, unlisted []int64, err error) {
	pending := make(map[string]lepus.ProviderWait, len(ws))
	oldest := now
	for _, wt := range ws {
		pending[wt.ProviderTaskID] = wt
		if wt.SubmittedAt.Before(oldest) {
			oldest = wt.SubmittedAt
		}
	}
	var listedFrom time.Time // the oldest creation seen in the list
	for page := 1; page <= listMaxPages && len(pending) > 0; page++ {
		items, err := w.Lister.List(ctx, endpoint, page, listPageSize)
		if err != nil {
			return ended, unlisted, err
		}
		for _, it := range items {
			if listedFrom.IsZero() || it.CreatedAt.Before(listedFrom) {
				listedFrom = it.CreatedAt
			}
			wt, ok := pending[it.ID]
			if !ok {
				continue
			}
			delete(pending, it.ID)
			if !it.Ended {
				continue
			}
			if !it.UpdatedAt.IsZero() && it.UpdatedAt.After(it.CreatedAt) {
				w.learn(endpoint, wt.Model, it.UpdatedAt.Sub(it.CreatedAt))
			}
			if w.wakeOnce(wt, now) {
				ended = append(ended, wt)
			}
		}
		// Provider clocks and ours differ a little: a minute of slack.
		if len(items) < listPageSize || (!listedFrom.IsZero() && listedFrom.Before(oldest.Add(-time.Minute))) {
			break
		}
	}
	// Waited tasks the list did not show although it reached back past
	// them: their jobs look for themselves.
	for _, wt := range pending {
		if !listedFrom.IsZero() && wt.SubmittedAt.Before(listedFrom) && w.wakeOnce(wt, now) {
			unlisted = append(unlisted, wt.JobID)
		}
	}
	return ended, unlisted, nil
}

// wakeOnce reports whether the task should be woken now: not if it was
// woken in the last few intervals (its job may not have run yet).
func (w *Watcher) wakeOnce(wt lepus.ProviderWait, now time.Time) bool {
	if wt.JobID == 0 {
		return false
	}
	if at, ok := w.woken[wt.ProviderTaskID]; ok && now.Sub(at) < 5*w.Interval {
		return false
	}
	w.woken[wt.ProviderTaskID] = now
	return true
}

// learn folds one observed provider latency into the endpoint and model's
// typical latency (an exponentially weighted average).
func (w *Watcher) learn(endpoint, model string, d time.Duration) {
	k := latencyKey(endpoint, model)
	if old, ok := w.latency[k]; ok {
		w.latency[k] = (old*7 + d*3) / 10
		return
	}
	w.latency[k] = d
}

func latencyKey(endpoint, model string) string { return endpoint + " " + model }

// watchSafety is how long a watched stage's job sleeps between its own
// polls: the watcher wakes it when its provider task ends (or when the list
// no longer shows it), so this is only the safety net, and is cut short at
// the stage's deadline. Long, so that 100,000 tasks in flight cost little.
func watchSafety(pollInterval time.Duration) time.Duration {
	return min(360*pollInterval, 30*time.Minute)
}
