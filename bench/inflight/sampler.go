package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// snapshot is one look at the child, its database and the sandbox.
type snapshot struct {
	at             time.Time
	rssKB, hwmKB   int64         // VmRSS, VmHWM
	cpu            time.Duration // user+system so far
	goroutines     int
	heapInuseKB    int64 // runtime.MemStats.HeapInuse
	sandboxRunning int   // provider tasks submitted and not ended
	counts               // River running jobs, task statuses
}

// sampler takes a sample every interval until its context ends.
type sampler struct {
	proc  *lepusProc
	db    *database
	prov  *provider
	debug *http.Client

	mu       sync.Mutex
	samples  []snapshot
	failures int   // samples skipped because a read failed
	firstErr error // the first such failure
	done     chan struct{}
}

func newSampler(proc *lepusProc, db *database, prov *provider) *sampler {
	return &sampler{proc: proc, db: db, prov: prov, debug: &http.Client{Timeout: 5 * time.Second}, done: make(chan struct{})}
}

func (s *sampler) loop(ctx context.Context, every time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		smp, err := s.take(ctx)
		s.mu.Lock()
		if err == nil {
			s.samples = append(s.samples, smp)
		} else if ctx.Err() == nil {
			s.failures++
			if s.firstErr == nil {
				s.firstErr = err
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *sampler) take(ctx context.Context) (snapshot, error) {
	smp := snapshot{at: time.Now(), cpu: s.proc.cpu(), sandboxRunning: s.prov.running()}
	var err error
	if smp.rssKB, smp.hwmKB, err = s.proc.memory(); err != nil {
		return smp, err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.proc.debugAddr+"/debug/vars", nil)
	resp, err := s.debug.Do(req)
	if err != nil {
		return smp, fmt.Errorf("debug vars: %w", err)
	}
	var vars struct {
		Goroutines int `json:"goroutines"`
		Memstats   struct {
			HeapInuse int64
		} `json:"memstats"`
	}
	err = json.NewDecoder(resp.Body).Decode(&vars)
	resp.Body.Close()
	if err != nil {
		return smp, fmt.Errorf("decode debug vars: %w", err)
	}
	smp.goroutines, smp.heapInuseKB = vars.Goroutines, vars.Memstats.HeapInuse>>10
	if smp.counts, err = s.db.counts(ctx); err != nil {
		return smp, err
	}
	return smp, nil
}

// last is the latest sample (zero before the first).
func (s *sampler) last() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return snapshot{}
	}
	return s.samples[len(s.samples)-1]
}

func (s *sampler) all() []snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]snapshot(nil), s.samples...)
}

// wait blocks until the loop has returned.
func (s *sampler) wait() { <-s.done }

// waitDone waits until n tasks have completed, logging progress every 10 s.
// A failed or canceled task ends the run: every task must complete.
func (s *sampler) waitDone(ctx context.Context, n int, logf func(string, ...any)) error {
	lastLog := time.Now()
	for {
		smp := s.last()
		if smp.ended > 0 {
			return fmt.Errorf("%d task(s) failed or were canceled", smp.ended)
		}
		if smp.completed >= n {
			return nil
		}
		if time.Since(lastLog) >= 10*time.Second {
			s.mu.Lock()
			failures := s.failures
			s.mu.Unlock()
			logf("completed %d/%d; sandbox running %d; river running %d; goroutines %d; rss %d MB (sample failures %d)",
				smp.completed, n, smp.sandboxRunning, smp.riverRunning, smp.goroutines, smp.rssKB>>10, failures)
			lastLog = time.Now()
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for completion (%d/%d completed): %w", smp.completed, n, err)
		}
	}
}
