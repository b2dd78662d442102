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

// readCounts reads River's running jobs and the tasks' statuses over the
// read-only probe connection to the child's database.
func readCounts(ctx context.Context, probe *sql.DB) (counts, error) {
	var c counts
	if err := probe.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&c.riverRunning); err != nil {
		return c, fmt.Errorf("count running jobs: %w", err)
	}
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
