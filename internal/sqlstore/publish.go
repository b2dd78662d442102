package sqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// taskPublisher sends the ids of committed task changes on TaskChannel, on
// Postgres, after their transactions commit and in batches: one NOTIFY
// carries every id saved since the last one went out.
//
// Why not NOTIFY in each saving transaction: Postgres serialises the
// commits of all notifying transactions of a database on one lock, held
// through the commit's WAL flush, so with a NOTIFY per save every task
// save of every process queued behind every other (the first wait of a
// busy Postgres in BENCHMARKS.md). A batch costs one such commit for many
// saves; while one is on its way the next collects.
//
// What it gives up: an id saved just before the process dies may never be
// published. Listeners (event streams) re-read their tasks anyway
// (LEPUS_EVENTS_RECHECK, 10 s on Postgres), so a lost notice only delays
// an update. Nothing is published for a rolled-back change, as before, and
// ids go out in the order their saves committed.
type taskPublisher struct {
	db  *sql.DB
	log *slog.Logger

	mu      sync.Mutex
	pending []string
	signal  chan struct{} // capacity 1: "pending is not empty"
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// maxPayload keeps a batch under Postgres's 8,000-byte NOTIFY payload.
const maxPayload = 7900

func newTaskPublisher(db *sql.DB, log *slog.Logger) *taskPublisher {
	p := &taskPublisher{db: db, log: log, signal: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// publish queues a committed change of task id. It never blocks.
func (p *taskPublisher) publish(id string) {
	p.mu.Lock()
	p.pending = append(p.pending, id)
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

// close sends what is queued, then stops.
func (p *taskPublisher) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

func (p *taskPublisher) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.signal:
			p.flush()
		case <-p.stop:
			p.flush()
			return
		}
	}
}

// flush sends every queued id, a payload at a time.
func (p *taskPublisher) flush() {
	p.mu.Lock()
	ids := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, payload := range payloads(ids) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := p.db.ExecContext(ctx, `SELECT pg_notify('`+TaskChannel+`', $1)`, payload)
		cancel()
		if err != nil {
			p.log.Warn("publish task changes; listeners will see them at their next re-read", "tasks", strings.Count(payload, ",")+1, "error", err)
		}
	}
}

// payloads joins ids with commas, once each and in order, into payloads of
// at most maxPayload bytes.
func payloads(ids []string) []string {
	var out []string
	var b strings.Builder
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if b.Len() > 0 && b.Len()+1+len(id) > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
