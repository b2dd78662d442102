package app

import (
	"sync"
	"time"
)

// DefaultRecheck is how often a watcher re-reads its task when nothing
// woke it, unless a Hub says otherwise.
const DefaultRecheck = 2 * time.Second

// Hub tells watchers (SSE streams) that a task changed. It is a wake-up
// only: watchers re-read the task from the store. It is the one place
// watchers wait on, fed by this process's own writes (Publish) and, on
// Postgres, by a LISTEN connection that hears the changes every process
// commits (sqlstore.TaskListener: Publish per task, PublishAll when it
// (re)connects and may have missed some). On SQLite one process holds the
// database, so its own writes are all there is. A watcher also re-reads
// every Recheck: the safety net for a wake-up that never came.
type Hub struct {
	// Recheck is how often a watcher re-reads without a wake-up; set it
	// before the hub is used. Default DefaultRecheck.
	Recheck time.Duration

	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[string]map[chan struct{}]struct{}{}} }

// RecheckInterval is Recheck, or DefaultRecheck when unset.
func (h *Hub) RecheckInterval() time.Duration {
	if h.Recheck > 0 {
		return h.Recheck
	}
	return DefaultRecheck
}

// Subscribe returns a channel that receives after each change of taskID,
// and a function to stop.
func (h *Hub) Subscribe(taskID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[taskID] == nil {
		h.subs[taskID] = map[chan struct{}]struct{}{}
	}
	h.subs[taskID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[taskID], ch)
		if len(h.subs[taskID]) == 0 {
			delete(h.subs, taskID)
		}
		h.mu.Unlock()
	}
}

// Publish wakes every watcher of taskID without blocking.
func (h *Hub) Publish(taskID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[taskID] {
		wake(ch)
	}
}

// PublishAll wakes every watcher of every task without blocking: changes
// may have been missed (a Notifier reconnected), so all re-read.
func (h *Hub) PublishAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, chs := range h.subs {
		for ch := range chs {
			wake(ch)
		}
	}
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
