package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/apiclient"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/load"
)

// submitted is the outcome of submitting every task.
type submitted struct {
	first, last time.Time       // first request sent, last 202 received
	latencies   []time.Duration // one per request, in completion order
}

func (s submitted) span() time.Duration { return s.last.Sub(s.first) }

func (s submitted) rps() float64 { return float64(len(s.latencies)) / s.span().Seconds() }

// submitAll sends n tasks of the workflow from conc clients, each with its
// own Idempotency-Key, and stops at the first error.
func submitAll(ctx context.Context, c *apiclient.Client, workflow string, n, conc int, scene, face string) (submitted, error) {
	run := lepusproc.RandomHex(4)
	r, err := load.Run(ctx, n, conc, func(ctx context.Context, i int) error {
		key := fmt.Sprintf("inflight-%s-%d", run, i)
		var err error
		if workflow == workflowImageToVideo {
			_, err = c.ImageToVideo(ctx, key, scene)
		} else {
			_, err = c.FaceSwap(ctx, key, scene, face)
		}
		if err != nil {
			return fmt.Errorf("submit %d: %w", i, err)
		}
		return nil
	})
	return submitted{first: r.First, last: r.Last, latencies: r.Latencies}, err
}
