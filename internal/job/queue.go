package job

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// DefaultJobTimeout bounds one run of a job unless configured.
const DefaultJobTimeout = 5 * time.Minute

// QueueName is the one queue every workflow runs on (workflows.md).
const QueueName = "gpu"

// Client is the River client; both databases use *sql.Tx.
type Client = river.Client[*sql.Tx]

// QueueConfig configures the River client.
type QueueConfig struct {
	// Dialect is "sqlite" or "postgres".
	Dialect string
	// ListenerPool, on Postgres, carries LISTEN/NOTIFY so new jobs start at
	// once; nil means poll only.
	ListenerPool *pgxpool.Pool
	// Workers is the number of jobs run at once; 0 makes an insert-only
	// client (an API process that runs no jobs).
	Workers int
	// FetchPollInterval is how often idle workers look for due jobs. Default 1 s.
	FetchPollInterval time.Duration
	// RetryBase is the first retry delay; each retry doubles it, capped at
	// 300 s. Default 1 s.
	RetryBase time.Duration
	// JobTimeout bounds one run of a job (one or a few steps; waiting is a
	// snooze, not a run). Default 5 min.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is presumed
	// lost with its process (kill -9) and retried. Default JobTimeout + 1 min.
	RescueAfter time.Duration
	// ProcessID names this process as River's client (in attempted_by), so
	// its jobs can be handed back if it dies. Default: River's own.
	ProcessID string
	Logger    *slog.Logger
}

func driver(db *sql.DB, cfg QueueConfig) riverdriver.Driver[*sql.Tx] {
	if cfg.Dialect == "postgres" {
		if cfg.ListenerPool != nil {
			return riverdatabasesql.NewWithPgxListener(db, cfg.ListenerPool)
		}
		return riverdatabasesql.New(db)
	}
	return newKickDriver(db)
}

// Migrate creates or upgrades River's tables.
func Migrate(ctx context.Context, db *sql.DB, cfg QueueConfig) error {
	m, err := rivermigrate.New(driver(db, cfg), &rivermigrate.Config{Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}

// fetchCooldown is the least time between two fetches of one producer;
// a wake-up within it waits for its end.
const fetchCooldown = 20 * time.Millisecond

// CheckMigrated reports, as an error naming what to run, whether River's
// tables are missing or behind (a process that does not migrate itself).
func CheckMigrated(ctx context.Context, db *sql.DB, cfg QueueConfig) error {
	m, err := rivermigrate.New(driver(db, cfg), &rivermigrate.Config{Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check river's tables: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("the queue's tables are not current (%s)", strings.Join(res.Messages, "; "))
	}
	return nil
}

// NewClient builds the River client with Lepus's retry policy and the
// workers registered by Register, and the Waker that makes its jobs run now.
func NewClient(db *sql.DB, workers *river.Workers, cfg QueueConfig) (*Client, *Waker, error) {
	jobTimeout := cmp.Or(cfg.JobTimeout, DefaultJobTimeout)
	rc := &river.Config{
		ID:                   cfg.ProcessID,
		Logger:               cfg.Logger,
		RetryPolicy:          &backoff{base: cmp.Or(cfg.RetryBase, time.Second), cap: 300 * time.Second},
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: max(cmp.Or(cfg.RescueAfter, jobTimeout+time.Minute), jobTimeout),
		Workers:              workers,
	}
	if cfg.Workers > 0 {
		poll := cmp.Or(cfg.FetchPollInterval, time.Second)
		rc.FetchPollInterval = poll
		rc.FetchCooldown = min(poll, fetchCooldown)
		rc.Queues = map[string]river.QueueConfig{QueueName: {MaxWorkers: cfg.Workers},
			WebhookQueue: {MaxWorkers: WebhookWorkers}}
		rc.PeriodicJobs = []*river.PeriodicJob{periodicSweep()}
	}
	d := driver(db, cfg)
	c, err := river.NewClient(d, rc)
	if err != nil {
		return nil, nil, fmt.Errorf("river client: %w", err)
	}
	return c, newWaker(c, d, cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))), nil
}

// backoff is exponential backoff capped like the old Celery tasks
// (retry_backoff_max=300), with ±10% jitter.
type backoff struct {
	base, cap time.Duration
}

func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	n := max(len(job.Errors), 1) // errors so far, including this one
	d := b.base
	for i := 1; i < n && d < b.cap; i++ {
		d *= 2
	}
	d = min(d, b.cap)
	jitter := time.Duration(rand.Int64N(int64(d/5)+1)) - d/10
	return time.Now().Add(d + jitter)
}

// CancelTx returns a function that cancels a job inside the caller's
// transaction (a canceled task's job must not run again).
func CancelTx(c *Client) func(ctx context.Context, tx *sql.Tx, jobID int64) error {
	return func(ctx context.Context, tx *sql.Tx, jobID int64) error {
		_, err := c.JobCancelTx(ctx, tx, jobID)
		if err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			return fmt.Errorf("cancel job %d: %w", jobID, err)
		}
		return nil
	}
}
