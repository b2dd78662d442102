package main

import (
	"context"
	"database/sql"
	"fmt"
)

// counts is what the probe reads in one sample.
type counts struct {
	riverRunning int // river_job rows in state running: jobs holding a worker
	completed    int // tasks completed
	ended        int // tasks failed or canceled
}

// countRunning counts River's running jobs (an index read) over the
// read-only probe connection to the child's database.
func countRunning(ctx context.Context, probe *sql.DB) (int, error) {
	var n int
	if err := probe.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count running jobs: %w", err)
	}
	return n, nil
}

// countStatuses counts the tasks by status (a scan of the task table).
func countStatuses(ctx context.Context, probe *sql.DB) (counts, error) {
	var c counts
	rows, err := probe.QueryContext(ctx, `SELECT status, count(*) FROM task GROUP BY status`)
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
