package sqlstore

import "time"

// CountInFlightSQL is the in-flight count query, for tests that EXPLAIN it.
const CountInFlightSQL = countInFlightSQL

// SetListenerClock makes l read the time from now and wait with after;
// call it before Start.
func SetListenerClock(l *TaskListener, now func() time.Time, after func(time.Duration) <-chan time.Time) {
	l.now, l.after = now, after
}
