package metrics

import (
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// queueDB is a SQLite database with the three tables the collector reads,
// holding one running job.
func queueDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE TABLE provider_pool (name TEXT PRIMARY KEY, used INTEGER NOT NULL)`,
		`CREATE TABLE slot_waiter (pool TEXT NOT NULL, task_id TEXT NOT NULL)`,
		`CREATE TABLE river_job (id INTEGER PRIMARY KEY, state TEXT NOT NULL)`,
		`INSERT INTO provider_pool VALUES ('video', 2)`,
		`INSERT INTO river_job (state) VALUES ('running')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestQueueCollector_Cache: the queue numbers are read once per
// queueCacheTTL however many scrapes come, concurrent ones included; a
// failed reading is cached too.
func TestQueueCollector_Cache(t *testing.T) {
	t.Parallel()
	db := queueDB(t)
	var (
		clockMu sync.Mutex
		now     = time.Unix(1_700_000_000, 0)
	)
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); defer clockMu.Unlock(); now = now.Add(d) }
	m := New()
	m.reg.MustRegister(newQueueCollector(db, map[string]int{"video": 10, "image": 10}, nil, clock))

	s := scrape(t, m)
	want(t, s, 1, "lepus_queue_jobs", "state", "running")
	want(t, s, 0, "lepus_queue_jobs", "state", "available")
	want(t, s, 2, "lepus_provider_slots_in_use", "pool", "video")
	want(t, s, 0, "lepus_provider_slots_in_use", "pool", "image")
	want(t, s, 1, "lepus_queue_stats_up")

	// The database changes; within the interval every scrape, however many
	// at once, answers from the first reading.
	if _, err := db.Exec(`INSERT INTO river_job (state) VALUES ('running'), ('available')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE provider_pool SET used = 5`); err != nil {
		t.Fatal(err)
	}
	advance(queueCacheTTL - time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s := scrape(t, m)
			want(t, s, 1, "lepus_queue_jobs", "state", "running")
			want(t, s, 0, "lepus_queue_jobs", "state", "available")
			want(t, s, 2, "lepus_provider_slots_in_use", "pool", "video")
		})
	}
	wg.Wait()

	advance(time.Millisecond) // the reading is queueCacheTTL old: read again
	s = scrape(t, m)
	want(t, s, 2, "lepus_queue_jobs", "state", "running")
	want(t, s, 1, "lepus_queue_jobs", "state", "available")
	want(t, s, 5, "lepus_provider_slots_in_use", "pool", "video")

	t.Run("ErrCached", func(t *testing.T) {
		if _, err := db.Exec(`DROP TABLE slot_waiter`); err != nil {
			t.Fatal(err)
		}
		advance(queueCacheTTL)
		want(t, scrape(t, m), 0, "lepus_queue_stats_up")
		// The table is back, but the failure stands for the interval.
		if _, err := db.Exec(`CREATE TABLE slot_waiter (pool TEXT NOT NULL, task_id TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		want(t, scrape(t, m), 0, "lepus_queue_stats_up")
		advance(queueCacheTTL)
		s := scrape(t, m)
		want(t, s, 1, "lepus_queue_stats_up")
		want(t, s, 0, "lepus_provider_slot_waiting_tasks", "pool", "video")
	})
}
