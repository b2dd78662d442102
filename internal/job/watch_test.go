package job_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sandbox"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// fakeList is a provider task list, newest first, that counts its pages.
type fakeList struct {
	mu    sync.Mutex
	tasks []job.ListedTask // newest first
	pages int
}

func (f *fakeList) List(_ context.Context, _ string, page, size int) ([]job.ListedTask, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages++
	from := min((page-1)*size, len(f.tasks))
	return f.tasks[from:min(from+size, len(f.tasks))], nil
}

// waitingTasks creates n tasks (job ids 1..n) whose stage waits on provider
// task "p<i>", submitted a second apart, oldest first.
func waitingTasks(t *testing.T, s lepus.Store, n int, start time.Time) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("tsk_%d", i)
		jobID := int64(i)
		_, _, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Grant: 1 << 30,
			Task:    &lepus.Task{ID: id, UserID: "u", Type: "image_generation", Status: lepus.StatusPending, CallbackToken: "cb" + id, Cost: 1},
			Enqueue: func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return jobID, nil }})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WaitAdd(ctx, &lepus.ProviderWait{Provider: "kling", Endpoint: "/v1/images/generations",
			ProviderTaskID: fmt.Sprintf("p%d", i), TaskID: id, Stage: "image", SubmittedAt: start.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
}

func newWatcher(s lepus.Store, l job.Lister, now time.Time) (*job.Watcher, *[]int64) {
	var woken []int64
	w := &job.Watcher{Store: s, Provider: "kling", Lister: l, Interval: time.Second, Logger: slog.New(slog.DiscardHandler),
		Now:  func() time.Time { return now },
		Wake: func(_ context.Context, ids ...int64) { woken = append(woken, ids...) }}
	return w, &woken
}

// A list page wakes exactly the tasks whose provider task ended, and the
// ones the list no longer shows; running ones sleep on.
func TestWatcher_WakesExactlyTheEnded(t *testing.T) {
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s, _ := sqlstoretest.Open(t, dialect)
			start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			waitingTasks(t, s, 4, start)
			at := func(sec int) time.Time { return start.Add(time.Duration(sec) * time.Second) }
			// Newest first. p1 is older than anything listed (it scrolled away).
			list := &fakeList{tasks: []job.ListedTask{
				{ID: "other", Ended: true, CreatedAt: at(5), UpdatedAt: at(6)},
				{ID: "p4", Ended: false, CreatedAt: at(4)},
				{ID: "p3", Ended: true, CreatedAt: at(3), UpdatedAt: at(13)},
				{ID: "p2", Ended: true, CreatedAt: at(2), UpdatedAt: at(12)},
			}}
			w, woken := newWatcher(s, list, at(20))
			next, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(*woken)
			if fmt.Sprint(*woken) != "[1 2 3]" {
				t.Fatalf("woke jobs %v, want [1 2 3] (p2, p3 ended; p1 no longer listed; p4 runs)", *woken)
			}
			if next != time.Second {
				t.Fatalf("next look in %s, want the short interval", next)
			}
			// A task it just woke is not woken again before its job ran.
			*woken = nil
			if _, err := w.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(*woken) != 0 {
				t.Fatalf("woke %v again at once", *woken)
			}
			// A stage that ended forgets its wait; a task that ended too.
			if err := s.WaitDelete(context.Background(), "tsk_2", "image"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.TaskFinish(context.Background(), &lepus.TaskFinishParams{ID: "tsk_3", Status: lepus.StatusCanceled}); err != nil {
				t.Fatal(err)
			}
			ws, err := s.WaitList(context.Background(), "kling")
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != 2 || ws[0].ProviderTaskID != "p1" || ws[1].ProviderTaskID != "p4" || ws[1].JobID != 4 {
				t.Fatalf("waits = %+v, want p1 and p4", ws)
			}
		})
	}
}

// Polling costs one list request per 500 waiting tasks, not one per task.
func TestWatcher_PagesNotTasks(t *testing.T) {
	t.Parallel()
	s, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	const n = 1200
	waitingTasks(t, s, n, start)
	list := &fakeList{}
	for i := n; i >= 1; i-- {
		list.tasks = append(list.tasks, job.ListedTask{ID: fmt.Sprintf("p%d", i), Ended: i%100 == 0, CreatedAt: start.Add(time.Duration(i) * time.Second)})
	}
	w, woken := newWatcher(s, list, start.Add(2*n*time.Second))
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if list.pages != 3 {
		t.Fatalf("%d list requests for %d waiting tasks, want 3", list.pages, n)
	}
	if len(*woken) != n/100 {
		t.Fatalf("woke %d jobs, want the %d that ended", len(*woken), n/100)
	}
}

// The watcher learns an endpoint's typical latency and does not look
// before tasks are near it.
func TestWatcher_LooksNearTheExpectedFinish(t *testing.T) {
	t.Parallel()
	s, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	waitingTasks(t, s, 2, start)
	// p1 ended after 100 s; p2 (submitted at +2 s) is still running.
	list := &fakeList{tasks: []job.ListedTask{
		{ID: "p2", CreatedAt: start.Add(2 * time.Second)},
		{ID: "p1", Ended: true, CreatedAt: start.Add(time.Second), UpdatedAt: start.Add(101 * time.Second)},
	}}
	now := start.Add(101 * time.Second)
	w, _ := newWatcher(s, list, now)
	w.Idle = time.Hour
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDelete(context.Background(), "tsk_1", "image"); err != nil {
		t.Fatal(err)
	}
	pages := list.pages
	// p2 is resubmitted just now: it is due only near 0.8 × 100 s from now.
	if err := s.WaitDelete(context.Background(), "tsk_2", "image"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitAdd(context.Background(), &lepus.ProviderWait{Provider: "kling", Endpoint: "/v1/images/generations",
		ProviderTaskID: "p2", TaskID: "tsk_2", Stage: "image", SubmittedAt: now}); err != nil {
		t.Fatal(err)
	}
	next, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if list.pages != pages {
		t.Fatalf("looked at the list %d more times for a task submitted just now", list.pages-pages)
	}
	if next < 75*time.Second || next > 85*time.Second {
		t.Fatalf("next look in %s, want about 80 s (0.8 × the learned 100 s)", next)
	}
}

// End to end, without callbacks: tasks finish through the watcher's list
// polls, each asking the provider about itself only a couple of times,
// however long the provider takes (polling alone would ask every 20 ms).
func TestEngine_BatchPolling(t *testing.T) {
	t.Parallel()
	b := setup(t, options{sandbox: func(c *sandbox.Config) { c.ImageLatency = 400 * time.Millisecond }})
	var tasks []*lepus.Task
	for range 5 {
		tasks = append(tasks, b.faceSwap(t, "walt", false))
	}
	for _, task := range tasks {
		requireStatus(t, b.waitEnded(t, task.ID), lepus.StatusCompleted)
	}
	st := b.sb.Stats()
	if st.Lists == 0 {
		t.Fatal("the watcher never listed the provider's tasks")
	}
	if st.Queries > 3*len(tasks) {
		t.Fatalf("%d single-task queries for %d tasks; want at most 3 each (batch polling)", st.Queries, len(tasks))
	}
	t.Logf("%d tasks: %d single queries, %d list queries", len(tasks), st.Queries, st.Lists)
}

// A batch poll that sees a provider task end frees its slot at once, before
// the ended task's own job has run: the provider freed it when the task
// ended. Tasks the list no longer shows keep their slots and only wake.
func TestWatcher_EndedFreesTheSlot(t *testing.T) {
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, _ := sqlstoretest.Open(t, dialect)
			start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			waitingTasks(t, s, 3, start)
			for i := 1; i <= 3; i++ {
				ok, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling-image", Capacity: 3,
					Holder: fmt.Sprintf("tsk_%d/image", i), TaskID: fmt.Sprintf("tsk_%d", i), Cost: 1})
				if err != nil || !ok {
					t.Fatalf("acquire slot %d: %v, %v", i, ok, err)
				}
			}
			at := func(sec int) time.Time { return start.Add(time.Duration(sec) * time.Second) }
			list := &fakeList{tasks: []job.ListedTask{ // p1 scrolled away
				{ID: "p3", Ended: false, CreatedAt: at(3)},
				{ID: "p2", Ended: true, CreatedAt: at(2), UpdatedAt: at(12)},
			}}
			w, woken := newWatcher(s, list, at(20))
			e := &job.Engine{Store: s, Logger: slog.New(slog.DiscardHandler)}
			var ended []lepus.ProviderWait
			w.Ended = func(ctx context.Context, ws []lepus.ProviderWait) {
				ended = append(ended, ws...)
				e.ProviderEnded(ctx, ws)
			}
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if len(ended) != 1 || ended[0].TaskID != "tsk_2" || ended[0].Stage != "image" || ended[0].JobID != 2 {
				t.Fatalf("ended = %+v, want tsk_2's image stage", ended)
			}
			if fmt.Sprint(*woken) != "[1]" {
				t.Fatalf("woke %v, want [1]: p1 is no longer listed, its job asks alone", *woken)
			}
			used, err := s.SlotUsage(ctx, "kling-image")
			if err != nil {
				t.Fatal(err)
			}
			if used != 2 {
				t.Fatalf("%d slots in use after p2 ended, want 2 (p2's freed; p1's and p3's kept)", used)
			}
		})
	}
}
