package sqlstore

import (
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// CountInFlightSQL is the in-flight count query, for tests that EXPLAIN it.
const CountInFlightSQL = countInFlightSQL

// SetListenerClock makes l read the time from now and wait with after;
// call it before Start.
func SetListenerClock(l *TaskListener, now func() time.Time, after func(time.Duration) <-chan time.Time) {
	l.now, l.after = now, after
}

// CreatesWaiting is how many TaskCreates wait for a group committer.
func (s *Store) CreatesWaiting() int64 { return s.group.waiting.Load() }

// LargestCreateGroup is the most members one group commit had.
func (s *Store) LargestCreateGroup() int64 { return s.group.largest.Load() }

// CreatesRetriedAlone is how many creates lost a deadlock and ran again.
func (s *Store) CreatesRetriedAlone() int64 { return s.group.alone.Load() }

// ListQuery is TaskList's query for one task, for tests that EXPLAIN it.
func (s *Store) ListQuery(p *lepus.TaskListParams) (string, []any, error) {
	return s.listQuery(p, 1)
}
