// Package load is the benchmarks' load generator: a fixed number of
// clients share n requests, each client sending its next request as soon
// as its last one was answered (a closed loop, as 64 keep-alive API
// callers would). It also holds the few numbers every report prints: the
// latency quantiles and the machine's load average.
package load

import (
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Result is one run of requests.
type Result struct {
	First, Last time.Time       // first request sent, last answer received
	Latencies   []time.Duration // one per request, in completion order
}

// Span is first request sent → last answer received.
func (r Result) Span() time.Duration { return r.Last.Sub(r.First) }

// Rate is the requests answered per second over the span.
func (r Result) Rate() float64 { return float64(len(r.Latencies)) / r.Span().Seconds() }

// Quantile is the p-quantile of the latencies; see Quantile.
func (r Result) Quantile(p float64) time.Duration { return Quantile(r.Latencies, p) }

// Run calls do(ctx, i) for every i in [0, n) from clients goroutines and
// times each call. It stops at the first error, cancels the calls in
// flight and returns that error.
func Run(ctx context.Context, n, clients int, do func(ctx context.Context, i int) error) (Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var (
		mu  sync.Mutex
		out = Result{Latencies: make([]time.Duration, 0, n)}
		wg  sync.WaitGroup
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				err := do(ctx, i)
				end := time.Now()
				if err != nil {
					cancel(err)
					return
				}
				mu.Lock()
				out.Latencies = append(out.Latencies, end.Sub(start))
				if end.After(out.Last) {
					out.Last = end
				}
				mu.Unlock()
			}
		}()
	}
	out.First = time.Now()
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return out, context.Cause(ctx)
}

// Quantile is the p-quantile (nearest rank) of ds; 1 is the maximum.
func Quantile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Average is /proc/loadavg's 1, 5 and 15 minute averages ("n/a" off Linux).
func Average() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}
