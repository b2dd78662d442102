package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
	"github.com/lepus-ai/lepus/internal/testutil/tcpproxy"
)

// TestTaskListener_Postgres: a task change committed through one store (one
// process) reaches a listener of another connection, at commit and only
// then; a lost listener connection comes back and says so.
//
// The channel is shared by every schema of the test database, so other
// tests' notifications arrive too: each case uses task ids of its own.
func TestTaskListener_Postgres(t *testing.T) {
	if os.Getenv(sqlstoretest.EnvDatabaseURL) == "" {
		t.Skipf("set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run", sqlstoretest.EnvDatabaseURL)
	}
	t.Parallel()
	ctx := context.Background()

	t.Run("OtherProcess", func(t *testing.T) {
		t.Parallel()
		a, dsn := sqlstoretest.Open(t, sqlstore.DialectPostgres)
		b := openSecond(t, dsn) // another process's pool on the same database
		l := startListener(t, dsn)
		id := randomID("tsk_")
		task := create(t, b, newTask(id, "u1"), 100)

		task.Status, task.Progress, task.Step = lepus.StatusProcessing, 10, "image.submit"
		if err := b.TaskSave(ctx, task); err != nil {
			t.Fatalf("TaskSave: %v", err)
		}
		l.want(t, id)
		if _, err := a.TaskFinish(ctx, &lepus.TaskFinishParams{ID: id, Status: lepus.StatusCompleted}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		l.want(t, id)
	})

	// Postgres delivers notifications in commit order, so a marker
	// committed after a rolled-back finish (and after a save that its guard
	// refused) arrives without anything about them before it.
	t.Run("NotOnRollbackOrRefusal", func(t *testing.T) {
		t.Parallel()
		s, dsn := sqlstoretest.Open(t, sqlstore.DialectPostgres)
		l := startListener(t, dsn)
		rolled, ended, marker := randomID("tsk_"), randomID("tsk_"), randomID("tsk_")
		create(t, s, newTask(rolled, "u1"), 100)
		endedTask := create(t, s, newTask(ended, "u1"), 100)
		markerTask := create(t, s, newTask(marker, "u1"), 100)
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: ended, Status: lepus.StatusCanceled}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		l.want(t, ended)

		boom := errors.New("boom")
		_, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: rolled, Status: lepus.StatusCompleted,
			OnTx: func(context.Context, *sql.Tx, *lepus.Task) error { return boom }})
		if !errors.Is(err, boom) {
			t.Fatalf("TaskFinish with a failing hook: %v, want the hook's error", err)
		}
		endedTask.Status = lepus.StatusProcessing
		wantEnded(t, s.TaskSave(ctx, endedTask))
		markerTask.Status = lepus.StatusProcessing
		if err := s.TaskSave(ctx, markerTask); err != nil {
			t.Fatalf("TaskSave: %v", err)
		}
		for _, id := range l.until(t, marker) {
			if id == rolled || id == ended {
				t.Fatalf("notified of %s before the marker: a rolled-back or refused change was published", id)
			}
		}
	})

	t.Run("Reconnect", func(t *testing.T) {
		t.Parallel()
		s, dsn := sqlstoretest.Open(t, sqlstore.DialectPostgres)
		l := startListener(t, dsn)
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1`, l.AppName).Scan(&n); err != nil || n != 1 {
			t.Fatalf("terminate the listener's connection: %d terminated, %v; want 1", n, err)
		}
		select {
		case <-l.resets: // back, and its subscribers told to re-read
		case <-time.After(time.Minute):
			t.Fatal("the listener did not reconnect")
		}
		id := randomID("tsk_")
		task := create(t, s, newTask(id, "u1"), 100)
		task.Status = lepus.StatusProcessing
		if err := s.TaskSave(ctx, task); err != nil {
			t.Fatalf("TaskSave: %v", err)
		}
		l.want(t, id)
	})

	// A connection that dies right after each LISTEN keeps backing off
	// (and warns once); one that stayed up longer than MaxBackoff starts
	// over from MinBackoff. The clock is fake: waits are recorded and end
	// at once, and the connection's uptime is what the test says.
	t.Run("BackoffWhenFlapping", func(t *testing.T) {
		t.Parallel()
		u, err := url.Parse(os.Getenv(sqlstoretest.EnvDatabaseURL))
		if err != nil {
			t.Fatal(err)
		}
		proxy, err := tcpproxy.Listen(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = proxy.Close() })
		u.Host = proxy.Addr()

		const stableAt = 6 // this connection stays up for a second
		var (
			mu      sync.Mutex
			clock   = t0
			resets  int
			waits   []time.Duration
			logs    bytes.Buffer
			stopped = make(chan struct{})
		)
		fired := make(chan time.Time)
		close(fired)
		l := &sqlstore.TaskListener{
			DSN:        u.String(),
			OnTask:     func(string) {},
			MinBackoff: 100 * time.Millisecond,
			MaxBackoff: 800 * time.Millisecond,
			Logger:     slog.New(slog.NewTextHandler(&logs, nil)), // written by the listener's goroutine only
			OnReset: func() { // LISTEN took: drop the connection at once
				mu.Lock()
				resets++
				if resets == stableAt {
					clock = clock.Add(time.Second)
				}
				mu.Unlock()
				proxy.Cut()
				proxy.Restore()
			},
		}
		sqlstore.SetListenerClock(l,
			func() time.Time { mu.Lock(); defer mu.Unlock(); return clock },
			func(d time.Duration) <-chan time.Time {
				mu.Lock()
				defer mu.Unlock()
				waits = append(waits, d)
				if len(waits) == stableAt+1 {
					close(stopped)
					return nil // wait until Stop
				}
				return fired
			})
		l.Start(context.Background())
		select {
		case <-stopped:
		case <-time.After(time.Minute):
			t.Fatal("the listener did not reconnect")
		}
		l.Stop()
		ms := time.Millisecond
		want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 800 * ms, 100 * ms, 200 * ms}
		if !slices.Equal(waits, want) {
			t.Fatalf("waits before reconnecting = %v, want %v", waits, want)
		}
		// The first loss and the loss of the stable connection warn; the
		// flapping in between is debug.
		if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
			t.Fatalf("%d warnings, want 2:\n%s", n, logs.String())
		}
	})
}

// testListener is a started TaskListener whose calls land on channels.
type testListener struct {
	*sqlstore.TaskListener
	tasks  chan string
	resets chan struct{}
}

// startListener starts a listener on dsn and waits until it listens.
func startListener(t *testing.T, dsn string) *testListener {
	t.Helper()
	l := &testListener{tasks: make(chan string, 10000), resets: make(chan struct{}, 100)}
	l.TaskListener = &sqlstore.TaskListener{
		DSN:     dsn,
		AppName: randomID("lepus-listener-test-"),
		OnTask: func(id string) {
			select {
			case l.tasks <- id:
			default:
				t.Errorf("test listener buffer full; dropped %s", id)
			}
		},
		OnReset: func() { l.resets <- struct{}{} },
	}
	l.Start(context.Background())
	t.Cleanup(l.Stop)
	select {
	case <-l.resets:
	case <-time.After(time.Minute):
		t.Fatal("the listener did not start listening")
	}
	return l
}

// want waits for a notification about id.
func (l *testListener) want(t *testing.T, id string) {
	t.Helper()
	l.until(t, id)
}

// until returns the ids notified before id, once id is.
func (l *testListener) until(t *testing.T, id string) []string {
	t.Helper()
	var before []string
	timeout := time.After(time.Minute)
	for {
		select {
		case got := <-l.tasks:
			if got == id {
				return before
			}
			before = append(before, got)
		case <-timeout:
			t.Fatalf("no notification about %s", id)
		}
	}
}

// openSecond opens another pool on dsn, as another process would.
func openSecond(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func randomID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
