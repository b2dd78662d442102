package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/apiclient"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
)

// submitted is the outcome of submitting every task.
type submitted struct {
	first, last time.Time       // first request sent, last 202 received
	latencies   []time.Duration // one per request, in completion order
}

func (s submitted) span() time.Duration { return s.last.Sub(s.first) }

func (s submitted) rps() float64 { return float64(len(s.latencies)) / s.span().Seconds() }

// submitAll sends n face swaps from conc clients, each with its own
// Idempotency-Key, and stops at the first error.
func submitAll(ctx context.Context, c *apiclient.Client, n, conc int, scene, face string) (submitted, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	run := lepusproc.RandomHex(4)
	next := make(chan int)
	var (
		mu  sync.Mutex
		out = submitted{latencies: make([]time.Duration, 0, n)}
		wg  sync.WaitGroup
	)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				_, err := c.FaceSwap(ctx, fmt.Sprintf("inflight-%s-%d", run, i), scene, face)
				end := time.Now()
				if err != nil {
					cancel(fmt.Errorf("submit %d: %w", i, err))
					return
				}
				mu.Lock()
				out.latencies = append(out.latencies, end.Sub(start))
				out.last = maxTime(out.last, end)
				mu.Unlock()
			}
		}()
	}
	out.first = time.Now()
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
	if err := context.Cause(ctx); err != nil {
		return out, err
	}
	return out, nil
}

// maxTime is max for times, which are not ordered by the built-in.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
