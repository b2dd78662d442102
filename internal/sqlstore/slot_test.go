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
		if !acquire(t, s, "c", 3, 1) {
			t.Fatal("c: want acquired")
		}
		wantUsage(t, s, "kling", 3)
		// The refused holder left nothing behind.
		if err := s.SlotRelease(ctx, "b"); err != nil {
			t.Fatalf("SlotRelease(b): %v", err)
		}
		wantUsage(t, s, "kling", 3)
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

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		_, err := s.SlotAcquire(ctx, &lepus.SlotAcquireParams{Pool: "kling", Capacity: 1, Holder: "h", Cost: 0})
		wantCode(t, err, lepus.EInvalid)
	})
}
