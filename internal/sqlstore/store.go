// Package sqlstore implements lepus.Store once, for SQLite (modernc.org/sqlite)
// and Postgres (pgx through database/sql). Everything that differs between the
// two databases lives in dialect.go; the rest is shared SQL that both accept.
package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/lepus-ai/lepus/internal/lepus"
)

var _ lepus.Store = (*Store)(nil)

// Options tune a Store. The zero value is usable.
type Options struct {
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
	// Logger receives migration events; default discards.
	Logger *slog.Logger
	// CreateCommitters is how many group commits of TaskCreate may run at
	// once (groupcommit.go): default 1 (SQLite has one writer anyway);
	// below zero, each create commits alone.
	CreateCommitters int
}

// Store is the SQL implementation of lepus.Store. Its *sql.DB is shared with
// the job queue, so on SQLite (one connection) a code path that holds a
// transaction must use only that transaction.
type Store struct {
	db  *sql.DB
	d   dialect
	now func() time.Time
	log *slog.Logger
	// webhookHook, when set, is called in the transaction of each task
	// event a task's webhook subscribes to (see webhook.go).
	webhookHook lepus.WebhookHook
	// group batches concurrent creates into shared commits; nil: each
	// commits alone.
	group *createGroup
	// pub publishes committed task changes to other processes; nil on
	// SQLite (one process).
	pub *taskPublisher
}

// Open connects to the database named by dsn: a "postgres://" or
// "postgresql://" URL selects Postgres, anything else is a SQLite file path,
// "file:" URI or ":memory:". It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	s := &Store{now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.d = dialectFor(dsn)
	db, err := s.d.open(dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.d.name, err)
	}
	s.d.configure(db)
	s.db = db
	if err := s.db.PingContext(ctx); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("ping %s: %w", s.d.name, err)
	}
	if s.d.name == DialectPostgres {
		s.pub = newTaskPublisher(db, s.log)
	}
	if n := cmp.Or(opts.CreateCommitters, 1); n > 0 {
		s.startGroupCommit(n)
	}
	return s, nil
}

// DB returns the underlying pool so the queue can share it (and its
// transactions) with the store.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Close stops the group committers, after the groups they run commit,
// publishes the task changes not yet published, and closes the pool.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.close()
	}
	if s.pub != nil {
		s.pub.close()
	}
	return s.db.Close()
}

// published tells other processes that task id changed (publish.go).
func (s *Store) published(id string) {
	if s.pub != nil {
		s.pub.publish(id)
	}
}

// clock returns "now" once per operation, in UTC and at the microsecond
// precision both databases keep, so values read back compare equal.
func (s *Store) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// inTx runs fn in a transaction and commits if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share; private helpers take it so a
// public method decides whether they run inside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
