package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// queueTimeout bounds the queries of one scrape: a slow database costs a
// scrape its queue numbers, never a hung scrape.
const queueTimeout = 2 * time.Second

// queueCacheTTL is how long one reading of the queue numbers serves every
// scrape: /metrics is unauthenticated and several Prometheus servers may
// scrape it, and on SQLite the queries share the one connection with the
// workers, so the database is asked at most once per interval.
const queueCacheTTL = 10 * time.Second

// riverStates are River's job states, each reported (0 when none) so a
// dashboard's series never vanish.
var riverStates = []string{"available", "cancelled", "completed", "discarded", "pending", "retryable", "running", "scheduled"}

// WatchQueue registers a collector that reads, at scrape time (at most once
// per queueCacheTTL), the provider slots in use and the tasks waiting for
// one per pool, and River's jobs by state, from the shared database (so
// every process reports the whole system's numbers, not its own), plus the
// connection pool's statistics. pools are the configured pools and their
// capacities.
func (m *Metrics) WatchQueue(db *sql.DB, pools map[string]int, logger *slog.Logger) {
	if m == nil {
		return
	}
	m.reg.MustRegister(newQueueCollector(db, pools, logger, time.Now), collectors.NewDBStatsCollector(db, "lepus"))
}

var (
	slotsUsedDesc = prometheus.NewDesc("lepus_provider_slots_in_use",
		"Provider concurrency units held, per pool (all processes).", []string{"pool"}, nil)
	slotsCapDesc = prometheus.NewDesc("lepus_provider_slots_capacity",
		"Provider concurrency units configured, per pool.", []string{"pool"}, nil)
	waitingDesc = prometheus.NewDesc("lepus_provider_slot_waiting_tasks",
		"Tasks waiting for a free provider slot, per pool (all processes).", []string{"pool"}, nil)
	jobsDesc = prometheus.NewDesc("lepus_queue_jobs",
		"River jobs by state (all processes).", []string{"state"}, nil)
	queueUpDesc = prometheus.NewDesc("lepus_queue_stats_up",
		"1 if the last scrape read the queue and slot numbers from the database, else 0.", nil, nil)
)

// queueCollector is a prometheus.Collector querying the database when its
// last reading is older than queueCacheTTL.
type queueCollector struct {
	db    *sql.DB
	pools map[string]int
	log   *slog.Logger
	now   func() time.Time

	// mu is held across a reading, so scrapes that arrive together wait
	// for one set of queries instead of each running its own.
	mu   sync.Mutex
	last queueReading
}

// queueReading is one set of queries' result; err is cached too, so a
// failing database is not asked again by every scrape.
type queueReading struct {
	at                  time.Time
	used, waiting, jobs map[string]float64
	err                 error
}

func newQueueCollector(db *sql.DB, pools map[string]int, logger *slog.Logger, now func() time.Time) *queueCollector {
	return &queueCollector{db: db, pools: pools, log: logger, now: now}
}

// reading returns the cached reading, or a new one when it is stale. The
// maps are never changed after the reading is stored.
func (c *queueCollector) reading() queueReading {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.last.at.IsZero() && now.Sub(c.last.at) < queueCacheTTL && now.Sub(c.last.at) >= 0 {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.Background(), queueTimeout)
	defer cancel()
	r := queueReading{at: now}
	r.used, r.waiting, r.jobs, r.err = c.read(ctx)
	if r.err != nil && c.log != nil {
		c.log.Warn("metrics: read queue numbers", "error", r.err)
	}
	if r.err == nil {
		for pool := range c.pools {
			r.used[pool] += 0 // report configured pools that were never used as 0
			r.waiting[pool] += 0
		}
		for _, s := range riverStates {
			r.jobs[s] += 0
		}
	}
	c.last = r
	return r
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{slotsUsedDesc, slotsCapDesc, waitingDesc, jobsDesc, queueUpDesc} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, capacity := range c.pools {
		ch <- prometheus.MustNewConstMetric(slotsCapDesc, prometheus.GaugeValue, float64(capacity), pool)
	}
	r := c.reading()
	if r.err != nil {
		ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 1)
	for pool, n := range r.used {
		ch <- prometheus.MustNewConstMetric(slotsUsedDesc, prometheus.GaugeValue, n, pool)
	}
	for pool, n := range r.waiting {
		ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, n, pool)
	}
	for state, n := range r.jobs {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, n, state)
	}
}

// read runs the three grouped counts. The SQL is plain enough for SQLite
// and Postgres alike; river_job is River's table, the others Lepus's.
func (c *queueCollector) read(ctx context.Context) (used, waiting, jobs map[string]float64, err error) {
	if used, err = c.group(ctx, `SELECT name, used FROM provider_pool`); err != nil {
		return nil, nil, nil, fmt.Errorf("slots in use: %w", err)
	}
	if waiting, err = c.group(ctx, `SELECT pool, count(DISTINCT task_id) FROM slot_waiter GROUP BY pool`); err != nil {
		return nil, nil, nil, fmt.Errorf("slot waiters: %w", err)
	}
	if jobs, err = c.group(ctx, `SELECT state, count(*) FROM river_job GROUP BY state`); err != nil {
		return nil, nil, nil, fmt.Errorf("river jobs: %w", err)
	}
	return used, waiting, jobs, nil
}

// group reads (label, number) rows into a map.
func (c *queueCollector) group(ctx context.Context, query string) (map[string]float64, error) {
	rows, err := c.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var (
			k string
			n int64
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] += float64(n)
	}
	return out, rows.Err()
}
