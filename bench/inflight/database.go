package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver
)

// database is where the child keeps its state, and a read-only connection
// the sampler uses to count River's running jobs and the tasks' statuses.
type database struct {
	lepusURL string // LEPUS_DATABASE_URL; "" means SQLite in the data dir
	probe    *sql.DB
	drop     func() // removes the Postgres schema; nil for SQLite
}

// openDatabase prepares the child's database: nothing for SQLite (lepus
// creates <tmp>/data/lepus.db), a fresh schema for a postgres:// URL, which
// the child reaches through search_path as sqlstoretest does.
func openDatabase(ctx context.Context, pgURL, tmp string) (*database, error) {
	if pgURL == "" {
		path := filepath.Join(tmp, "data", "lepus.db")
		// Opened lazily: the file exists once lepus has started.
		probe, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			return nil, fmt.Errorf("open sqlite probe: %w", err)
		}
		probe.SetMaxOpenConns(1)
		return &database{probe: probe}, nil
	}
	if !strings.HasPrefix(pgURL, "postgres://") && !strings.HasPrefix(pgURL, "postgresql://") {
		return nil, fmt.Errorf("-db %q is not a postgres:// URL", pgURL)
	}
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	schema := "bench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`)
		_ = admin.Close()
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		drop()
		return nil, fmt.Errorf("parse -db: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	lepusURL := u.String()
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	probe, err := sql.Open("pgx", u.String())
	if err != nil {
		drop()
		return nil, fmt.Errorf("open postgres probe: %w", err)
	}
	probe.SetMaxOpenConns(1)
	return &database{lepusURL: lepusURL, probe: probe, drop: drop}, nil
}

// counts is what the probe reads in one sample.
type counts struct {
	riverRunning int // river_job rows in state running: jobs holding a worker
	completed    int // tasks completed
	ended        int // tasks failed or canceled
}

func (d *database) counts(ctx context.Context) (counts, error) {
	var c counts
	if err := d.probe.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&c.riverRunning); err != nil {
		return c, fmt.Errorf("count running jobs: %w", err)
	}
	rows, err := d.probe.QueryContext(ctx, `SELECT status, count(*) FROM task GROUP BY status`)
	if err != nil {
		return c, fmt.Errorf("count tasks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return c, err
		}
		switch status {
		case "completed":
			c.completed = n
		case "failed", "canceled":
			c.ended += n
		}
	}
	return c, rows.Err()
}

func (d *database) close() {
	_ = d.probe.Close()
	if d.drop != nil {
		d.drop()
	}
}
