package mediatest

import (
	"math"
	"testing"
	"time"
)

// fuzzBudget is how long one input may take; the seeds take milliseconds.
const fuzzBudget = 2 * time.Second

// hangLimit is when an input counts as hung: the process is crashed, so
// the fuzzing engine keeps the input as a crasher instead of waiting.
const hangLimit = 20 * time.Second

// CheckBudget starts timing an input; the returned func, deferred, fails
// one that took longer than fuzzBudget.
func CheckBudget(t *testing.T) func() {
	t.Helper()
	start := time.Now()
	hung := time.AfterFunc(hangLimit, func() { panic("fuzz input hung for " + hangLimit.String()) })
	return func() {
		hung.Stop()
		if d := time.Since(start); d > fuzzBudget {
			t.Fatalf("took %v (budget %v)", d, fuzzBudget)
		}
	}
}

// Garbled returns data truncated at a few points and with a byte flipped
// in its middle, the usual damage of an upload.
func Garbled(data []byte) [][]byte {
	out := [][]byte{data}
	for _, n := range []int{len(data) / 2, len(data) - 1, 64, 8} {
		if n > 0 && n < len(data) {
			out = append(out, append([]byte{}, data[:n]...))
		}
	}
	if len(data) > 0 {
		flip := append([]byte{}, data...)
		flip[len(flip)/2] ^= 0xFF
		out = append(out, flip)
	}
	return out
}

// CheckDuration asserts a duration is a finite number of seconds >= 0.
func CheckDuration(t *testing.T, d float64, err error) {
	t.Helper()
	if err != nil && d != 0 {
		t.Fatalf("duration %v with error %v", d, err)
	}
	if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		t.Fatalf("duration %v is not a finite, non-negative number", d)
	}
}
