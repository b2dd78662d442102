package main

import (
	"time"

	"github.com/lepus-ai/lepus/internal/job/adapter"
)

// The relight tests talk to sandboxes that ask for Stability polls 10 ms
// apart (startLive), not the real Stability's 10 s: let Lepus space them
// 50 ms (the tests' LEPUS_POLL_INTERVAL) so relights finish quickly. Only a
// test binary may lower the floor (adapter.SetStabilityMinPollForTests), and the
// binary the crash tests build keeps 10 s.
func init() { adapter.SetStabilityMinPollForTests(50 * time.Millisecond) }
