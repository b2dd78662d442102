package job

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// Waking is event driven: whatever makes a job runnable now (a create, a
// provider callback, a freed provider slot, a batch poll that saw the
// provider finish) makes the job available with JobRetry and then kicks
// the queue, so a producer fetches at once instead of on its next poll.
// River's own insert notification is the kick: on Postgres a NOTIFY that
// every process's producer listens to; on SQLite (one process) a
// notification handed straight to the local listener, which is faster and
// cheaper than River's 50 ms outbox poll. Fetch polls and snooze timers
// stay as the safety net.

// insertTopic and insertPayload are River's job-insert notification for
// the Lepus queue (river/internal/notifier NotificationTopicInsert; the
// producer reads {"queue": name}).
const (
	insertTopic = "river_insert"
)

var insertPayload = `{"queue": "` + QueueName + `"}`

// kickDriver wraps River's SQLite driver so Lepus can hand the producer an
// insert notification in-process. Only GetListener differs.
type kickDriver struct {
	*riversqlite.Driver
	kicks chan struct{}
}

func newKickDriver(db *sql.DB) *kickDriver {
	return &kickDriver{Driver: riversqlite.New(db), kicks: make(chan struct{}, 1)}
}

func (d *kickDriver) GetListener(p *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &kickListener{Listener: d.Driver.GetListener(p), kicks: d.kicks}
}

// kick asks the local producer to fetch; kicks coalesce.
func (d *kickDriver) kick() {
	select {
	case d.kicks <- struct{}{}:
	default:
	}
}

// kickListener is River's SQLite listener plus in-process kicks. River's
// notifier calls WaitForNotification in a loop from one goroutine and
// cancels its context to interrupt it, so at most one inner wait runs at a
// time; a kick cancels the inner wait and is delivered as an insert
// notification (the SQLite listener keeps rows it already read in its own
// buffer, so nothing is lost by the cancel).
type kickListener struct {
	riverdriver.Listener
	kicks chan struct{}
}

func (l *kickListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	select {
	case <-l.kicks:
		return &riverdriver.Notification{Topic: insertTopic, Payload: insertPayload}, nil
	default:
	}
	innerCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		n   *riverdriver.Notification
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := l.Listener.WaitForNotification(innerCtx)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return r.n, r.err
	case <-l.kicks:
		cancel()
		if r := <-done; r.err == nil && r.n != nil {
			// A notification arrived as we cancelled: deliver it, and keep
			// the kick for the next call.
			select {
			case l.kicks <- struct{}{}:
			default:
			}
			return r.n, nil
		}
		return &riverdriver.Notification{Topic: insertTopic, Payload: insertPayload}, nil
	}
}

// Waker makes jobs runnable now and kicks the queue. It owns the short
// retries of jobs that were running when their wake came; Stop waits for
// them.
type Waker struct {
	client *Client
	kick   func(ctx context.Context) error
	log    *slog.Logger

	mu        sync.Mutex
	stopped   bool
	kicking   bool // a kick is being sent (kickAsync)
	kickAgain bool // and another was asked for meanwhile
	wg        sync.WaitGroup
	ctx       context.Context
	cancel    context.CancelFunc
}

// newWaker builds the waker for a client whose driver is d.
func newWaker(c *Client, d riverdriver.Driver[*sql.Tx], logger *slog.Logger) *Waker {
	w := &Waker{client: c, log: logger}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	switch d := d.(type) {
	case *kickDriver:
		w.kick = func(context.Context) error { d.kick(); return nil }
	default:
		exec := d.GetExecutor()
		notify := func(ctx context.Context) error {
			return exec.NotifyMany(ctx, &riverdriver.NotifyManyParams{Topic: insertTopic, Payload: []string{insertPayload}})
		}
		w.kick = func(context.Context) error { w.kickAsync(notify); return nil }
	}
	return w
}

// kickAsync sends a Postgres kick in the background, one at a time: kicks
// that come while one is on its way fold into one more send after it, so
// none is lost (a job committed after a NOTIFY went out is covered by the
// next) and a burst of creates costs two NOTIFYs, not one each. Postgres
// serialises the commits of every notifying transaction on one lock, so a
// NOTIFY per create queued creates and task saves behind each other.
func (w *Waker) kickAsync(send func(context.Context) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	if w.kicking {
		w.kickAgain = true
		return
	}
	w.kicking = true
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
			if err := send(ctx); err != nil {
				w.log.Debug("kick queue", "error", err)
			}
			cancel()
			w.mu.Lock()
			again := w.kickAgain && !w.stopped
			w.kicking, w.kickAgain = again, false
			w.mu.Unlock()
			if !again {
				return
			}
		}
	}()
}

// Kick tells the queue's producers that a job may be available now.
func (w *Waker) Kick(ctx context.Context) {
	if err := w.kick(ctx); err != nil {
		w.log.Debug("kick queue", "error", err)
	}
}

// Wake makes each job run now if it is waiting (snoozed, scheduled or in
// retry backoff), then kicks the queue. A job that is running when the
// wake comes (or whose snooze River has not written yet) cannot be made
// available, so Wake keeps trying in the background until it has parked
// (at most wakeRunningFor). It never blocks on that.
func (w *Waker) Wake(ctx context.Context, jobIDs ...int64) {
	running := w.retry(ctx, jobIDs)
	if len(running) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.retryRunning(running)
	}()
}

// retry makes the jobs available now, kicks the queue if any was, and
// returns those that were running.
func (w *Waker) retry(ctx context.Context, ids []int64) (running []int64) {
	woke := false
	for _, id := range ids {
		if id == 0 {
			continue
		}
		j, err := w.client.JobRetry(ctx, id)
		switch {
		case err != nil:
			w.log.Debug("wake job", "job_id", id, "error", err)
		case j.State == rivertype.JobStateRunning:
			running = append(running, id)
		default:
			woke = true
		}
	}
	if woke {
		w.Kick(ctx)
	}
	return running
}

// wakeRunningFor bounds how long a wake waits for a running job to park. A
// run is a step or two (a download in collect may take a while), so most
// park within seconds; one still running after this is stuck, and its
// own timers and River's rescue take over.
const wakeRunningFor = 2 * time.Minute

// retryRunning retries jobs that were running until each has parked.
func (w *Waker) retryRunning(ids []int64) {
	ctx, cancel := context.WithTimeout(w.ctx, wakeRunningFor)
	defer cancel()
	for delay := 10 * time.Millisecond; len(ids) > 0; delay = min(delay*2, time.Second) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		ids = w.retry(ctx, ids)
	}
}

// Stop ends the background retries and waits for them. Safe to call twice.
func (w *Waker) Stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
}
