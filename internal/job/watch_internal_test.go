package job

import (
	"testing"
	"time"
)

// TestLookGap: while tasks end, looks take at most a fifth of the time up
// to the cap of twenty intervals; after a look that found nothing ended,
// at most a tenth, past the cap.
func TestLookGap(t *testing.T) {
	const interval = 250 * time.Millisecond
	for _, c := range []struct {
		took  time.Duration
		found bool
		want  time.Duration
	}{
		{5 * time.Millisecond, true, 20 * time.Millisecond},
		{2 * time.Second, true, 5 * time.Second}, // the cap: an ended task is seen within 20 intervals and a look
		{5 * time.Millisecond, false, 45 * time.Millisecond},
		{2 * time.Second, false, 18 * time.Second}, // 100,000 waiting: a tenth of the time, past the cap
	} {
		if got := lookGap(c.took, interval, c.found); got != c.want {
			t.Errorf("lookGap(%s, found %v) = %s, want %s", c.took, c.found, got, c.want)
		}
	}
}
