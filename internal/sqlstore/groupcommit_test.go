package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// testGroupCommit holds the only committer busy with one create while
// others line up, so they commit as one group, then checks each member's
// outcome is its own, or the group's when the group fails.
func (su suite) testGroupCommit(t *testing.T) {
	t.Parallel()

	t.Run("MembersFailAlone", func(t *testing.T) {
		t.Parallel()
		s, _, release := su.holdCommitter(t)
		type outcome struct {
			task    *lepus.Task
			created bool
			err     error
		}
		ok := func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 7, nil }
		members := map[string]*lepus.TaskCreateParams{}
		for i := range 5 {
			id := fmt.Sprintf("tsk_ok%d", i)
			members[id] = &lepus.TaskCreateParams{Task: newTask(id, "u1"), Grant: 100, Enqueue: ok}
		}
		members["tsk_broke"] = &lepus.TaskCreateParams{Task: newTask("tsk_broke", "u2"), Grant: 5, Enqueue: ok}
		for _, id := range []string{"tsk_dupa", "tsk_dupb"} {
			task := newTask(id, "u3")
			task.IdempotencyKey = "key-1"
			members[id] = &lepus.TaskCreateParams{Task: task, Grant: 100, Enqueue: ok}
		}
		members["tsk_bad"] = &lepus.TaskCreateParams{Task: newTask("tsk_bad", "u4"), Grant: 100,
			Enqueue: func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 0, errors.New("queue refused") }}

		var (
			mu  sync.Mutex
			got = map[string]outcome{}
			wg  sync.WaitGroup
		)
		for id, p := range members {
			wg.Go(func() {
				task, created, err := s.TaskCreate(context.Background(), p)
				mu.Lock()
				got[id] = outcome{task, created, err}
				mu.Unlock()
			})
		}
		waitFor(t, func() bool { return s.CreatesWaiting() == int64(len(members)) })
		release()
		wg.Wait()
		if n := s.LargestCreateGroup(); n != int64(len(members)) {
			t.Fatalf("largest group had %d members, want all %d", n, len(members))
		}

		for i := range 5 {
			o := got[fmt.Sprintf("tsk_ok%d", i)]
			if o.err != nil || !o.created || o.task.JobID != 7 {
				t.Fatalf("ok member %d = %+v", i, o)
			}
		}
		if b := balance(t, s, "u1", 0); b != 50 {
			t.Fatalf("u1 balance %d, want 50 after five debits of 10", b)
		}
		// Each debit names its task (the first opened the account; on
		// Postgres the others took the one-statement path).
		entries, err := s.CreditLedger(context.Background(), "u1", 0)
		if err != nil {
			t.Fatal(err)
		}
		debited := map[string]bool{}
		for _, e := range entries {
			if e.Kind == lepus.LedgerDebit && e.Amount == -10 {
				debited[e.TaskID] = true
			}
		}
		for i := range 5 {
			if id := fmt.Sprintf("tsk_ok%d", i); !debited[id] {
				t.Fatalf("no debit of %s in u1's ledger %+v", id, entries)
			}
		}
		wantCode(t, got["tsk_broke"].err, lepus.ECredits)
		// Its account was opened inside its savepoint and rolled back with it.
		if l := ledgerKinds(t, s, "u2"); l != "" {
			t.Fatalf("u2 ledger %q, want nothing written", l)
		}
		a, b := got["tsk_dupa"], got["tsk_dupb"]
		if a.err != nil || b.err != nil || a.task.ID != b.task.ID || a.created == b.created {
			t.Fatalf("same key twice in a group = %+v and %+v; want one task, created once", a, b)
		}
		if l := ledgerKinds(t, s, "u3"); l != "debit:-10 grant:100" {
			t.Fatalf("u3 ledger %q, want one debit", l)
		}
		if err := got["tsk_bad"].err; err == nil {
			t.Fatal("member whose enqueue failed succeeded")
		}
		for _, id := range []string{"tsk_broke", "tsk_bad"} {
			_, err := s.TaskGet(context.Background(), id)
			wantCode(t, err, lepus.ENotFound)
		}
	})

	t.Run("FailsWhole", func(t *testing.T) {
		t.Parallel()
		s, _, release := su.holdCommitter(t)
		var (
			errs = make([]error, 4)
			wg   sync.WaitGroup
		)
		for i := range errs {
			enqueue := func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 7, nil }
			if i == 2 {
				enqueue = func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { panic("enqueue bug") }
			}
			p := &lepus.TaskCreateParams{Task: newTask(fmt.Sprintf("tsk_%d", i), "u1"), Grant: 100, Enqueue: enqueue}
			wg.Go(func() { _, _, errs[i] = s.TaskCreate(context.Background(), p) })
		}
		waitFor(t, func() bool { return s.CreatesWaiting() == int64(len(errs)) })
		release()
		wg.Wait()
		// The group's transaction never committed: every member is told,
		// and none of their writes exist.
		for i, err := range errs {
			if err == nil {
				t.Fatalf("member %d succeeded in a group that failed", i)
			}
			_, err := s.TaskGet(context.Background(), fmt.Sprintf("tsk_%d", i))
			wantCode(t, err, lepus.ENotFound)
		}
		if l := ledgerKinds(t, s, "u1"); l != "" {
			t.Fatalf("u1 ledger %q, want nothing written", l)
		}
	})
}

// testCreateConcurrent runs many creates at once, of new and existing
// users, grouped (the dialect's committers) and alone: every create
// succeeds and every balance adds up. A new user's account is opened by
// whichever create comes first; the others must see it, not a short balance.
func (su suite) testCreateConcurrent(t *testing.T) {
	t.Parallel()
	for _, committers := range []int{0, 4, -1} {
		t.Run(fmt.Sprintf("committers=%d", committers), func(t *testing.T) {
			t.Parallel()
			s, _ := sqlstoretest.OpenWith(t, su.dialect, sqlstore.Options{CreateCommitters: committers})
			const users, each = 8, 8
			var wg sync.WaitGroup
			errs := make(chan error, users*each)
			for i := range users * each {
				task := newTask(fmt.Sprintf("tsk_%d", i), fmt.Sprintf("u%d", i%users))
				wg.Go(func() {
					_, _, err := s.TaskCreate(context.Background(), &lepus.TaskCreateParams{Task: task, Grant: 1000, MaxInFlight: i % 2 * 100})
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for u := range users {
				if b := balance(t, s, fmt.Sprintf("u%d", u), 0); b != 1000-each*10 {
					t.Fatalf("u%d balance %d, want %d", u, b, 1000-each*10)
				}
			}
		})
	}
}

// testCreateLockOrder is the race two processes' creates of one user can
// run into on Postgres: process A's group has debited the user (row lock)
// and is about to insert idempotency key k; process B creates with key k.
// B must wait for the user's row before it writes its key, or A waits for
// B's key while B waits for A's row: a deadlock, one of them retried. B
// waits, then finds A's task; nobody is retried.
func (su suite) testCreateLockOrder(t *testing.T) {
	t.Parallel()
	if su.dialect != sqlstore.DialectPostgres {
		t.Skip("row locks: Postgres only (SQLite's transactions take the one write lock at BEGIN)")
	}
	sA, dsn, release := su.holdCommitter(t)
	sB, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{CreateCommitters: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sB.Close()
	type result struct {
		task    *lepus.Task
		created bool
		err     error
	}
	run := func(s *sqlstore.Store, task *lepus.Task, enqueue func(context.Context, *sql.Tx, *lepus.Task) (int64, error)) <-chan result {
		out := make(chan result, 1)
		go func() {
			got, created, err := s.TaskCreate(context.Background(), &lepus.TaskCreateParams{Task: task, Grant: 1000, Enqueue: enqueue})
			out <- result{got, created, err}
		}()
		return out
	}
	ok := func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 1, nil }
	keyed := func(id string) *lepus.Task {
		task := newTask(id, "u")
		task.IdempotencyKey = "k"
		return task
	}

	x := run(sA, newTask("tsk_x", "u"), ok)
	waitFor(t, func() bool { return sA.CreatesWaiting() == 1 })
	pids, gate := make(chan int, 1), make(chan struct{})
	var once sync.Once
	a := run(sA, keyed("tsk_ka"), func(ctx context.Context, tx *sql.Tx, _ *lepus.Task) (int64, error) {
		var err error
		once.Do(func() {
			var pid int
			pid, err = backendPID(ctx, sA, tx)
			pids <- pid
			<-gate
		})
		return 2, err
	})
	waitFor(t, func() bool { return sA.CreatesWaiting() == 2 })
	go release()
	pid := <-pids // A's group: x has debited u; ka is about to insert key k
	b := run(sB, keyed("tsk_kb"), ok)
	waitBlockedBy(t, sA, pid) // B waits on a lock A holds
	close(gate)
	rx, ra, rb := <-x, <-a, <-b
	if rx.err != nil || ra.err != nil || !ra.created {
		t.Fatalf("A's group: x %v; ka created %v, %v", rx.err, ra.created, ra.err)
	}
	if rb.err != nil || rb.created || rb.task.ID != "tsk_ka" {
		t.Fatalf("B = %+v created %v, %v; want A's task replayed", rb.task, rb.created, rb.err)
	}
	if n := sA.CreatesRetriedAlone() + sB.CreatesRetriedAlone(); n != 0 {
		t.Fatalf("%d creates lost a deadlock and were retried", n)
	}
}

// holdCommitter opens a store with one group committer and keeps it busy
// with a create whose enqueue waits; release lets it finish.
func (su suite) holdCommitter(t *testing.T) (s *sqlstore.Store, dsn string, release func()) {
	t.Helper()
	s, dsn = sqlstoretest.OpenWith(t, su.dialect, sqlstore.Options{CreateCommitters: 1})
	entered, proceed, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, _, err := s.TaskCreate(context.Background(), &lepus.TaskCreateParams{
			Task: newTask("tsk_hold", "u0"), Grant: 100,
			Enqueue: func(context.Context, *sql.Tx, *lepus.Task) (int64, error) {
				close(entered)
				<-proceed
				return 1, nil
			},
		})
		done <- err
	}()
	<-entered
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(proceed)
			if err := <-done; err != nil {
				t.Errorf("holding create: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return s, dsn, release
}

// waitFor polls cond until it holds; go test's -timeout bounds it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}
