package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/lepus-ai/lepus/bench/internal/benchdb"
	"github.com/lepus-ai/lepus/bench/internal/load"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/sqlstore"
)

// runDBWork measures a create's writes alone, with no HTTP and no Lepus
// around them: the most creates per second this database takes from
// o.clients parallel transactions, the limit Lepus is judged against.
//
// The database is opened as `lepus serve` opens it: sqlstore.Open (the
// same SQLite pragmas and single connection; on Postgres the pool sized
// like cmd/lepus/database.go), River's tables and then Lepus's migrated,
// and job.NewClient with no workers, which is River's insert-only client
// on the driver Lepus uses.
func runDBWork(ctx context.Context, o options, tmp string) (load.Result, error) {
	dir := filepath.Join(tmp, "dbwork")
	db, err := benchdb.Open(ctx, o.db, dir)
	if err != nil {
		return load.Result{}, err
	}
	defer db.Close()
	if db.SQLitePath != "" {
		if err := os.MkdirAll(filepath.Dir(db.SQLitePath), 0o700); err != nil {
			return load.Result{}, err
		}
	}
	store, err := sqlstore.Open(ctx, db.DSN(), sqlstore.Options{})
	if err != nil {
		return load.Result{}, err
	}
	defer store.Close()
	if store.Dialect() == sqlstore.DialectPostgres {
		store.DB().SetMaxOpenConns(25)
		store.DB().SetMaxIdleConns(25)
	}
	qcfg := job.QueueConfig{Dialect: store.Dialect(), Logger: slog.New(slog.DiscardHandler)}
	if err := job.Migrate(ctx, store.DB(), qcfg); err != nil {
		return load.Result{}, err
	}
	if err := store.Migrate(ctx); err != nil {
		return load.Result{}, err
	}
	queue, waker, err := job.NewClient(store.DB(), nil, qcfg) // Workers 0: insert-only
	if err != nil {
		return load.Result{}, err
	}
	defer waker.Stop()

	w, err := newCreateTx(ctx, store.DB(), store.Dialect(), queue)
	if err != nil {
		return load.Result{}, err
	}
	defer w.close()
	res, err := warmThenRun(ctx, o, w.create, nil)
	if err != nil {
		return res, err
	}
	// Every transaction committed its four writes.
	got, err := w.count(ctx)
	if err != nil {
		return res, err
	}
	if want := o.warmup + o.n; got != want {
		return res, fmt.Errorf("%d tasks and debits written, want %d", got, want)
	}
	return res, nil
}
