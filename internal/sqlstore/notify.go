package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// TaskChannel is the Postgres NOTIFY channel on which every committed change
// of a task's status, progress or step is published, after its commit and
// in batches (publish.go): the payload is the changed tasks' ids, separated
// by commas. A listener hears only of changes it can read. The channel
// is per database, not per schema: deployments sharing a database wake each
// other's watchers needlessly, never wrongly (ids are unique).
const TaskChannel = "lepus_task"

// TaskListener hears, on a connection of its own, the task changes that any
// process commits on Postgres (TaskChannel), and hands each task id to
// OnTask. After every (re)connection it calls OnReset: notifications sent
// while it was not listening are lost, so whoever it feeds must re-read
// everything. On SQLite there is one process and nothing to listen to.
//
// Why not github.com/jackc/pgxlisten: it reconnects after a fixed delay (a
// minute by default) and does not notice a connection that died silently;
// this one backs off from 100 ms to 5 s and pings a quiet connection.
//
// Lifecycle: Start launches one goroutine; Stop ends it and closes the
// connection, and is safe to call twice.
type TaskListener struct {
	// DSN is the postgres:// URL of the store. Required.
	DSN string
	// OnTask is called with the id of each changed task, in commit order,
	// from the listener's goroutine: it must not block. Required.
	OnTask func(taskID string)
	// OnReset is called after each successful LISTEN, the first included.
	// Optional.
	OnReset func()
	// Logger receives connection losses; default discards.
	Logger *slog.Logger
	// AppName is the connection's application_name, as pg_stat_activity
	// shows it. Default "lepus-listener".
	AppName string
	// MinBackoff and MaxBackoff bound the wait before a reconnection, which
	// doubles after each failed attempt. Defaults 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// IdleCheck is how long the connection may stay silent before it is
	// pinged, so a dead one is noticed. Default 30 s.
	IdleCheck time.Duration

	// now and after are the clock; tests inject a fake one.
	now   func() time.Time
	after func(time.Duration) <-chan time.Time

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
}

// Start begins listening in the background until ctx ends or Stop.
func (l *TaskListener) Start(ctx context.Context) {
	l.Logger = cmp.Or(l.Logger, slog.New(slog.DiscardHandler))
	l.AppName = cmp.Or(l.AppName, "lepus-listener")
	l.MinBackoff = cmp.Or(l.MinBackoff, 100*time.Millisecond)
	l.MaxBackoff = max(cmp.Or(l.MaxBackoff, 5*time.Second), l.MinBackoff)
	l.IdleCheck = cmp.Or(l.IdleCheck, 30*time.Second)
	if l.now == nil {
		l.now, l.after = time.Now, time.After
	}
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go l.run(ctx)
}

// Stop ends the listener and waits for its goroutine to exit.
func (l *TaskListener) Stop() {
	l.stopOnce.Do(func() {
		if l.cancel == nil {
			return // never started
		}
		l.cancel()
		<-l.done
	})
}

// run listens, and after each loss waits and connects again.
func (l *TaskListener) run(ctx context.Context) {
	defer close(l.done)
	backoff := l.MinBackoff
	lost := false // an attempt failed: repeated failures log at debug
	for {
		up, err := l.listen(ctx, lost)
		if ctx.Err() != nil {
			return
		}
		// Only a connection that stayed up longer than the longest wait
		// starts the waits over. One that dies right after LISTEN (a
		// pooler or proxy cutting it, a flapping link) keeps backing off,
		// or it would reconnect, and warn, ten times a second.
		stable := !up.IsZero() && l.now().Sub(up) > l.MaxBackoff
		if stable {
			backoff = l.MinBackoff
		}
		if lost && !stable {
			msg := "task listener: reconnect failed"
			if !up.IsZero() {
				msg = "task listener: connection lost again soon after reconnecting"
			}
			l.Logger.Debug(msg, "error", err, "retry_in", backoff)
		} else {
			l.Logger.Warn("task listener has no Postgres connection; live updates from other processes wait for the periodic re-read until it is back",
				"error", err, "retry_in", backoff)
		}
		lost = true
		select {
		case <-ctx.Done():
			return
		case <-l.after(backoff):
		}
		backoff = min(backoff*2, l.MaxBackoff)
	}
}

// listen connects, LISTENs, calls OnReset and hands on notifications until
// the connection fails or ctx ends. up is when LISTEN took, zero if it did
// not; recovering says a connection was lost before.
func (l *TaskListener) listen(ctx context.Context, recovering bool) (up time.Time, err error) {
	cfg, err := pgx.ParseConfig(l.DSN)
	if err != nil {
		return up, fmt.Errorf("parse database URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = l.AppName
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return up, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+TaskChannel); err != nil {
		return up, fmt.Errorf("listen: %w", err)
	}
	up = l.now()
	if recovering {
		l.Logger.Info("task listener reconnected")
	}
	if l.OnReset != nil {
		l.OnReset()
	}
	for {
		waitCtx, cancel := context.WithTimeout(ctx, l.IdleCheck)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			for _, id := range strings.Split(n.Payload, ",") {
				l.OnTask(id)
			}
		case ctx.Err() != nil:
			return up, ctx.Err()
		case waitCtx.Err() != nil: // quiet for IdleCheck: is the connection alive?
			pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return up, fmt.Errorf("ping: %w", err)
			}
		default:
			return up, fmt.Errorf("wait for notification: %w", err)
		}
	}
}
