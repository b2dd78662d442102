package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/benchdb"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/provider"
)

// snapshot is one look at the child, its database and the sandbox.
type snapshot struct {
	at             time.Time
	rssKB, hwmKB   int64         // VmRSS, VmHWM
	cpu            time.Duration // user+system so far
	goroutines     int
	executing      int   // goroutines inside Lepus's job worker: worker slots in use
	heapInuseKB    int64 // runtime.MemStats.HeapInuse
	sandboxRunning int   // provider tasks submitted and not ended
	counts               // River running jobs, task statuses
}

// sampler takes a sample every interval until its context ends.
type sampler struct {
	proc  *lepusproc.Proc
	db    *benchdb.DB
	prov  *provider.Provider
	debug *http.Client

	// taken and lastCounts belong to the loop's goroutine.
	taken      int
	lastCounts counts

	mu       sync.Mutex
	samples  []snapshot
	failures int   // samples skipped because a read failed
	firstErr error // the first such failure
	done     chan struct{}
}

func newSampler(proc *lepusproc.Proc, db *benchdb.DB, prov *provider.Provider) *sampler {
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
	smp := snapshot{at: time.Now(), cpu: lepusCPU(s.proc), sandboxRunning: s.prov.Running()}
	var err error
	if smp.rssKB, smp.hwmKB, err = s.proc.Memory(); err != nil {
		return smp, err
	}
	vars, err := s.vars(ctx)
	if err != nil {
		return smp, err
	}
	smp.goroutines, smp.heapInuseKB = vars.Goroutines, vars.Memstats.HeapInuse>>10
	if smp.executing, err = s.executing(ctx); err != nil {
		return smp, err
	}
	// Counting the tasks' statuses scans the task table: at 100,000 tasks
	// that is the database's biggest read, so it is done every
	// countEvery samples only, and the others repeat the last count.
	if s.taken%countEvery == 0 {
		if s.lastCounts, err = countStatuses(ctx, s.db.Probe); err != nil {
			return smp, err
		}
	}
	s.taken++
	smp.counts = s.lastCounts
	smp.riverRunning, err = countRunning(ctx, s.db.Probe)
	return smp, err
}

// countEvery is how many samples share one count of the tasks' statuses.
const countEvery = 10

// debugVars is the part of the child's /debug/vars the benchmark reads.
type debugVars struct {
	Goroutines int `json:"goroutines"`
	Memstats   struct {
		HeapAlloc, HeapInuse, StackInuse int64
	} `json:"memstats"`
}

func (s *sampler) vars(ctx context.Context) (debugVars, error) {
	var v debugVars
	b, err := s.get(ctx, "/debug/vars")
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("decode debug vars: %w", err)
	}
	return v, nil
}

// executing counts goroutines whose stack is in Lepus's River worker
// (internal/job.(*worker).Work): jobs running now, each holding one of the
// LEPUS_WORKERS slots. River's 'running' rows also include jobs that have
// returned but whose new state the batch completer has not written yet.
func (s *sampler) executing(ctx context.Context) (int, error) {
	b, err := s.get(ctx, "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	// Records are "N @ pc pc …" followed by "#\tpc\tfunc+off\tfile:line" lines.
	n, count := 0, 0
	for _, line := range strings.Split(string(b), "\n") {
		if c, _, ok := strings.Cut(line, " @ "); ok {
			count, _ = strconv.Atoi(c)
			continue
		}
		if strings.Contains(line, "/internal/job.(*worker[") && strings.Contains(line, "]).Work+") {
			n += count
			count = 0 // once per record
		}
	}
	return n, nil
}

// liveHeap forces a garbage collection in the child (pprof's heap?gc=1)
// and returns the heap and stack bytes still in use: what lepus really
// keeps, without the garbage RSS also counts.
func (s *sampler) liveHeap(ctx context.Context) (heapKB, stackKB int64, err error) {
	if _, err := s.get(ctx, "/debug/pprof/heap?gc=1"); err != nil {
		return 0, 0, err
	}
	v, err := s.vars(ctx)
	return v.Memstats.HeapAlloc >> 10, v.Memstats.StackInuse >> 10, err
}

func (s *sampler) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.proc.DebugAddr+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.debug.Do(req)
	if err != nil {
		return nil, fmt.Errorf("debug %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	if err != nil {
		return nil, fmt.Errorf("debug %s: %w", path, err)
	}
	return b, nil
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

// err describes the samples skipped because a read failed, or is nil.
func (s *sampler) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures == 0 {
		return nil
	}
	return fmt.Errorf("%d samples skipped; first error: %w", s.failures, s.firstErr)
}

// wait blocks until the loop has returned.
func (s *sampler) wait() { <-s.done }

// waitDone waits until n tasks have completed, logging progress every 10 s.
// A failed or canceled task ends the run: every task must complete.
func (s *sampler) waitDone(ctx context.Context, n int, logf func(string, ...any)) error {
	lastLog := time.Now()
	for {
		smp := s.last()
		if time.Since(smp.at) > 10*time.Second {
			return fmt.Errorf("no sample for 10 s: %v", s.err())
		}
		if smp.ended > 0 {
			return fmt.Errorf("%d task(s) failed or were canceled", smp.ended)
		}
		if smp.completed >= n {
			return nil
		}
		if time.Since(lastLog) >= 10*time.Second {
			logf("completed %d/%d; sandbox running %d; river running %d, executing %d; goroutines %d; rss %d MB",
				smp.completed, n, smp.sandboxRunning, smp.riverRunning, smp.executing, smp.goroutines, smp.rssKB>>10)
			lastLog = time.Now()
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for completion (%d/%d completed): %w", smp.completed, n, err)
		}
	}
}
