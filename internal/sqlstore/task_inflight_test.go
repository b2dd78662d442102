package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// testTaskInFlight checks TaskCreate's per-user cap on tasks in flight.
func (su suite) testTaskInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	capped := func(s *sqlstore.Store, task *lepus.Task, max int) (*lepus.Task, bool, error) {
		return s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: task, Grant: 100, MaxInFlight: max,
			Enqueue: func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 1, nil }})
	}

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		first := newTask("tsk_1", "u1")
		first.IdempotencyKey = "k1"
		for _, task := range []*lepus.Task{first, newTask("tsk_2", "u1")} {
			if _, _, err := capped(s, task, 2); err != nil {
				t.Fatalf("create %s under the cap: %v", task.ID, err)
			}
		}
		_, _, err := capped(s, newTask("tsk_3", "u1"), 2)
		if lepus.ErrorCode(err) != lepus.ELimit {
			t.Fatalf("third create: %v, want %s", err, lepus.ELimit)
		}
		if msg := lepus.ErrorMessage(err); !strings.Contains(msg, "you have 2 unfinished tasks") || !strings.Contains(msg, "the cap is 2") {
			t.Fatalf("message %q does not say the count and the cap", msg)
		}
		if _, err := s.TaskGet(ctx, "tsk_3"); lepus.ErrorCode(err) != lepus.ENotFound {
			t.Fatalf("refused task was stored: %v", err)
		}
		if b := balance(t, s, "u1", 0); b != 80 {
			t.Fatalf("balance = %d, want 80 (the refused create debits nothing)", b)
		}
		// A replay of a known key is answered at the cap.
		replay := newTask("tsk_1b", "u1")
		replay.IdempotencyKey = "k1"
		if got, created, err := capped(s, replay, 2); err != nil || created || got.ID != "tsk_1" {
			t.Fatalf("replay at the cap = %v, created %v, err %v", got, created, err)
		}
		// Another user has a cap of their own; no cap means no limit.
		if _, _, err := capped(s, newTask("tsk_u2", "u2"), 2); err != nil {
			t.Fatalf("other user: %v", err)
		}
		if _, _, err := capped(s, newTask("tsk_nocap", "u1"), 0); err != nil {
			t.Fatalf("MaxInFlight 0: %v", err)
		}
		// A task that ends frees its place.
		for _, id := range []string{"tsk_1", "tsk_2"} {
			if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: id, Status: lepus.StatusCompleted}); err != nil {
				t.Fatalf("finish %s: %v", id, err)
			}
		}
		if _, _, err := capped(s, newTask("tsk_4", "u1"), 2); err != nil {
			t.Fatalf("create after two ended (tsk_nocap still in flight): %v", err)
		}
		if _, _, err := capped(s, newTask("tsk_5", "u1"), 2); lepus.ErrorCode(err) != lepus.ELimit {
			t.Fatalf("create over the cap again: %v, want %s", err, lepus.ELimit)
		}
	})

	// Two creates with one idempotency key at the cap: the second misses
	// the key lookup (the first has not committed), queues behind the
	// first on the user's lock, and must then answer with the first's task
	// (or the conflict, for another body), not with the cap.
	t.Run("SameKeyAtCap", func(t *testing.T) {
		t.Parallel()
		// Each create commits alone, as two processes' creates do: the
		// second then waits on the first's lock in the database.
		s, _ := sqlstoretest.OpenWith(t, su.dialect, sqlstore.Options{CreateCommitters: -1})
		for _, tc := range []struct{ user, hash, want string }{
			{"u1", "hash-1", ""},
			{"u2", "hash-other", lepus.EConflict},
		} {
			first, second := newTask("tsk_a_"+tc.user, tc.user), newTask("tsk_b_"+tc.user, tc.user)
			first.IdempotencyKey, second.IdempotencyKey, second.RequestHash = "k", "k", tc.hash
			held, release := make(chan int, 1), make(chan struct{})
			type result struct {
				task    *lepus.Task
				created bool
				err     error
			}
			run := func(task *lepus.Task) <-chan result {
				out := make(chan result, 1)
				go func() {
					got, created, err := s.TaskCreate(ctx, &lepus.TaskCreateParams{Task: task, Grant: 100, MaxInFlight: 1,
						Enqueue: func(ctx context.Context, tx *sql.Tx, e *lepus.Task) (int64, error) {
							if e.ID == first.ID { // hold the first open, lock taken, until told
								pid, err := backendPID(ctx, s, tx)
								held <- pid
								<-release
								return 1, err
							}
							return 1, nil
						}})
					out <- result{got, created, err}
				}()
				return out
			}
			a := run(first)
			var pid int
			select {
			case pid = <-held:
			case r := <-a:
				t.Fatalf("%s: first create ended before its enqueue: %v", tc.user, r.err)
			}
			b := run(second)
			waitBlockedBy(t, s, pid)
			close(release)
			ra, rb := <-a, <-b
			if ra.err != nil || !ra.created {
				t.Fatalf("%s: first create = created %v, %v", tc.user, ra.created, ra.err)
			}
			if tc.want != "" {
				if lepus.ErrorCode(rb.err) != tc.want {
					t.Fatalf("%s: second create with another body: %v, want %s", tc.user, rb.err, tc.want)
				}
				continue
			}
			if rb.err != nil || rb.created || rb.task.ID != first.ID {
				t.Fatalf("%s: second create with the same key = %+v, created %v, %v; want the first's task", tc.user, rb.task, rb.created, rb.err)
			}
		}
	})

	// Concurrent creates of one user never exceed the cap: the count and
	// the insert are one critical section per user on both databases.
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		const n, max = 12, 3
		var (
			wg              sync.WaitGroup
			created, limits atomic.Int32
			errs            [n]error
		)
		for i := range n {
			wg.Go(func() {
				task := newTask(fmt.Sprintf("tsk_%d", i), "u1")
				task.Cost = 1
				_, _, err := capped(s, task, max)
				switch lepus.ErrorCode(err) {
				case "":
					created.Add(1)
				case lepus.ELimit:
					limits.Add(1)
				default:
					errs[i] = err
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		if created.Load() != max || limits.Load() != n-max {
			t.Fatalf("%d created, %d refused; want %d and %d", created.Load(), limits.Load(), max, n-max)
		}
		if got := countRows(t, s.DB(), `SELECT count(*) FROM task WHERE user_id = 'u1'`); got != max {
			t.Fatalf("%d tasks stored, want %d", got, max)
		}
	})
}
