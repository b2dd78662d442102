package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func (su suite) testSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	acquire := func(t *testing.T, s interface {
		SlotAcquire(context.Context, *lepus.SlotAcquireParams) (bool, error)
	}, holder string, capacity, cost int) bool {
		t.Helper()
		ok, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: capacity, Holder: holder, TaskID: "tsk", Cost: cost})
		if err != nil {
			t.Fatalf("SlotAcquire(%s): %v", holder, err)
		}
		return ok
	}

	t.Run("EndedTaskGetsNoSlot", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		create(t, s, newTask("tsk_c", "u1"), 100)
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_c", Status: lepus.StatusCanceled}); err != nil {
			t.Fatal(err)
		}
		_, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: 5, Holder: "tsk_c/image", TaskID: "tsk_c", Cost: 1})
		if !errors.Is(err, lepus.ErrTaskEnded) {
			t.Fatalf("a canceled task took a slot: %v", err)
		}
		if used, _ := s.SlotUsage(ctx, "kling"); used != 0 {
			t.Fatalf("pool uses %d", used)
		}
	})

	t.Run("Capacity", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		wantUsage(t, s, "kling", 0)
		if !acquire(t, s, "a", 3, 2) {
			t.Fatal("a: want acquired")
		}
		if acquire(t, s, "b", 3, 2) {
			t.Fatal("b: acquired beyond capacity")
		}
		// First come, first served: c would fit, but b waits ahead of it.
		if acquire(t, s, "c", 3, 1) {
			t.Fatal("c: acquired ahead of b, which waited first")
		}
		wantUsage(t, s, "kling", 2)
		// A refused holder that gives up leaves the line and holds nothing.
		if err := s.SlotRelease(ctx, "b"); err != nil {
			t.Fatalf("SlotRelease(b): %v", err)
		}
		wantUsage(t, s, "kling", 2)
		if !acquire(t, s, "c", 3, 1) {
			t.Fatal("c: want acquired once b left the line")
		}
		wantUsage(t, s, "kling", 3)
	})

	t.Run("HandoverOrder", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		for _, id := range []string{"tsk_h", "tsk_w1", "tsk_w2", "tsk_w3"} {
			create(t, s, newTask(id, "u1"), 100)
		}
		take := func(task string, cost int) bool {
			t.Helper()
			ok, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: 2, Holder: task + "/image", TaskID: task, Cost: cost})
			if err != nil {
				t.Fatalf("SlotAcquire(%s): %v", task, err)
			}
			return ok
		}
		next := func() []string {
			t.Helper()
			ws, err := s.SlotNext(ctx)
			if err != nil {
				t.Fatalf("SlotNext: %v", err)
			}
			var ids []string
			for _, w := range ws {
				ids = append(ids, w.TaskID)
			}
			return ids
		}
		if !take("tsk_h", 2) {
			t.Fatal("tsk_h: want acquired")
		}
		// Three tasks queue up, in this order.
		for _, id := range []string{"tsk_w1", "tsk_w2", "tsk_w3"} {
			if take(id, 1) {
				t.Fatalf("%s: acquired from a full pool", id)
			}
		}
		if got := next(); len(got) != 0 {
			t.Fatalf("nothing is free, yet SlotNext = %v", got)
		}
		// Asking again keeps a waiter's place: w3 does not pass w1.
		if take("tsk_w3", 1) {
			t.Fatal("tsk_w3: acquired from a full pool")
		}
		if err := s.SlotRelease(ctx, "tsk_h/image"); err != nil {
			t.Fatal(err)
		}
		// Two units free: the two longest-waiting tasks, in order.
		if got := fmt.Sprint(next()); got != "[tsk_w1 tsk_w2]" {
			t.Fatalf("SlotNext = %s, want [tsk_w1 tsk_w2]", got)
		}
		if take("tsk_w3", 1) {
			t.Fatal("tsk_w3 took a unit ahead of w1 and w2")
		}
		// Woken together, they may run in any order: w2 first is fine,
		// since w1's unit is kept for it.
		if !take("tsk_w2", 1) || !take("tsk_w1", 1) {
			t.Fatal("the woken waiters could not take their units")
		}
		// A task that ends leaves the line: w3 is next once a unit frees.
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_w1", Status: lepus.StatusCanceled}); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(next()); got != "[tsk_w3]" {
			t.Fatalf("SlotNext = %s, want [tsk_w3]", got)
		}
		if !take("tsk_w3", 1) {
			t.Fatal("tsk_w3: want acquired")
		}
		wantUsage(t, s, "kling", 2)
	})

	t.Run("IdempotentHolder", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		for range 3 {
			if !acquire(t, s, "tsk/image", 5, 2) {
				t.Fatal("want acquired")
			}
		}
		wantUsage(t, s, "kling", 2)
	})

	t.Run("ReleaseTwice", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		acquire(t, s, "a", 5, 2)
		acquire(t, s, "b", 5, 1)
		for range 2 {
			if err := s.SlotRelease(ctx, "a"); err != nil {
				t.Fatalf("SlotRelease: %v", err)
			}
			wantUsage(t, s, "kling", 1)
		}
		if err := s.SlotRelease(ctx, "never-held"); err != nil {
			t.Fatalf("SlotRelease(never-held): %v", err)
		}
		wantUsage(t, s, "kling", 1)
	})

	t.Run("ConcurrentNeverExceeds", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		const capacity, workers, rounds = 3, 12, 4
		var (
			wg            sync.WaitGroup
			held, maxHeld atomic.Int32
			wins          atomic.Int32
			errs          = make(chan error, workers)
		)
		for w := range workers {
			wg.Go(func() {
				for r := range rounds {
					holder := fmt.Sprintf("w%d/r%d", w, r)
					ok, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: capacity, Holder: holder, Cost: 1})
					if err != nil {
						errs <- err
						return
					}
					if !ok {
						// Give up: leave the waiting line.
						if err := s.SlotRelease(ctx, holder); err != nil {
							errs <- err
							return
						}
						continue
					}
					wins.Add(1)
					n := held.Add(1)
					for m := maxHeld.Load(); n > m && !maxHeld.CompareAndSwap(m, n); m = maxHeld.Load() {
					}
					held.Add(-1)
					if err := s.SlotRelease(ctx, holder); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("worker: %v", err)
		}
		if maxHeld.Load() > capacity {
			t.Fatalf("%d slots held at once, capacity %d", maxHeld.Load(), capacity)
		}
		if wins.Load() == 0 {
			t.Fatal("no worker ever acquired a slot")
		}
		wantUsage(t, s, "kling", 0)
	})

	t.Run("ConcurrentFillsExactly", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		const capacity, workers = 4, 10
		var (
			wg   sync.WaitGroup
			wins atomic.Int32
		)
		for w := range workers {
			wg.Go(func() {
				ok, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: capacity, Holder: fmt.Sprint(w), Cost: 1})
				if err != nil {
					t.Errorf("SlotAcquire: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != capacity {
			t.Fatalf("%d acquirers won, want %d", wins.Load(), capacity)
		}
		wantUsage(t, s, "kling", capacity)
	})

	t.Run("GoneWaiterBlocksNobody", func(t *testing.T) {
		t.Parallel()
		s, clock := su.open(t, time.Millisecond)
		for _, id := range []string{"tsk_h", "tsk_gone", "tsk_live"} {
			create(t, s, newTask(id, "u1"), 100)
		}
		take := func(task string) bool {
			t.Helper()
			ok, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: 1, Holder: task + "/image", TaskID: task, Cost: 1})
			if err != nil {
				t.Fatalf("SlotAcquire(%s): %v", task, err)
			}
			return ok
		}
		if !take("tsk_h") || take("tsk_gone") || take("tsk_live") {
			t.Fatal("want tsk_h to hold the unit and the others to wait, tsk_gone first")
		}
		// tsk_gone's job died and never asks again; tsk_live keeps asking.
		clock.Set(t0.Add(10 * time.Minute))
		if take("tsk_live") {
			t.Fatal("tsk_live took a held unit")
		}
		if err := s.SlotRelease(ctx, "tsk_h/image"); err != nil {
			t.Fatal(err)
		}
		ws, err := s.SlotNext(ctx)
		if err != nil || len(ws) != 1 || ws[0].TaskID != "tsk_live" {
			t.Fatalf("SlotNext = %+v, %v; want tsk_live (tsk_gone has not asked for minutes)", ws, err)
		}
		if !take("tsk_live") {
			t.Fatal("tsk_live waited behind a waiter that is gone")
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		_, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: 1, Holder: "h", Cost: 0})
		wantCode(t, err, lepus.EInvalid)
	})
}
