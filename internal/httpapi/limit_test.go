package httpapi

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// stepClock is a clock the test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestUserLimiter_Allow(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		clk := &stepClock{t: time.Unix(1_700_000_000, 0)}
		u := newUserLimiter(RateLimit{PerSecond: 2, Burst: 3}, clk.now)
		for i := range 3 {
			if ok, _ := u.allow("alice"); !ok {
				t.Fatalf("request %d of the burst refused", i+1)
			}
		}
		ok, wait := u.allow("alice")
		if ok || wait != 500*time.Millisecond {
			t.Fatalf("over the burst: ok %v wait %v, want refused for 500ms (one token at 2/s)", ok, wait)
		}
		// A refusal spends nothing: the next token still comes in 500ms.
		if ok, wait := u.allow("alice"); ok || wait != 500*time.Millisecond {
			t.Fatalf("second refusal: ok %v wait %v", ok, wait)
		}
		if ok, _ := u.allow("bob"); !ok {
			t.Fatal("bob has a bucket of his own")
		}
		clk.add(500 * time.Millisecond)
		if ok, _ := u.allow("alice"); !ok {
			t.Fatal("a token refilled after 500ms")
		}
		if ok, _ := u.allow("alice"); ok {
			t.Fatal("only one token refilled")
		}
	})
	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		if u := newUserLimiter(RateLimit{}, time.Now); u != nil {
			t.Fatal("a zero rate must give no limiter")
		}
	})
	t.Run("SweepDropsIdleBuckets", func(t *testing.T) {
		t.Parallel()
		clk := &stepClock{t: time.Unix(1_700_000_000, 0)}
		u := newUserLimiter(RateLimit{PerSecond: 10, Burst: 1}, clk.now)
		for i := range sweepMin {
			u.allow(fmt.Sprintf("user-%d", i))
		}
		clk.add(100 * time.Millisecond) // every bucket has refilled
		if ok, _ := u.allow("newcomer"); !ok {
			t.Fatal("newcomer refused")
		}
		if n := len(u.users); n != 1 {
			t.Fatalf("%d buckets after the sweep, want only the newcomer's", n)
		}
		// Buckets that have not refilled stay: forgetting one would hand
		// its user a fresh burst.
		for i := range sweepMin {
			u.allow(fmt.Sprintf("again-%d", i))
		}
		clk.add(50 * time.Millisecond) // half a token: the again-* have not refilled
		u.allow("late")
		if _, ok := u.users["again-0"]; !ok || len(u.users) != sweepMin+2 {
			t.Fatalf("%d buckets, want %d: buckets still refilling were dropped", len(u.users), sweepMin+2)
		}
	})
}
