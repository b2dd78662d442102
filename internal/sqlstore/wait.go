package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// WaitAdd records that a stage waits on a provider task (once).
func (s *Store) WaitAdd(ctx context.Context, w *lepus.ProviderWait) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO provider_wait (provider, endpoint, provider_task_id, task_id, stage, model, submitted_at, job_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		w.Provider, w.Endpoint, w.ProviderTaskID, w.TaskID, w.Stage, w.Model, s.d.ts(w.SubmittedAt.UTC()), w.JobID)
	if err != nil {
		return fmt.Errorf("add provider wait: %w", err)
	}
	return nil
}

// WaitList returns the provider tasks waited on at provider, with the jobs
// of their tasks, oldest first. It reads provider_wait alone: the task is
// read only for a wait recorded without its job id (by an older version).
func (s *Store) WaitList(ctx context.Context, provider string) ([]lepus.ProviderWait, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT w.provider, w.endpoint, w.provider_task_id, w.task_id, w.stage, w.model,
		w.submitted_at, coalesce(nullif(w.job_id, 0), (SELECT t.job_id FROM task t WHERE t.id = w.task_id), 0)
		FROM provider_wait w
		WHERE w.provider = $1 ORDER BY w.submitted_at`, provider)
	if err != nil {
		return nil, fmt.Errorf("list provider waits: %w", err)
	}
	defer rows.Close()
	var out []lepus.ProviderWait
	for rows.Next() {
		var w lepus.ProviderWait
		if err := rows.Scan(&w.Provider, &w.Endpoint, &w.ProviderTaskID, &w.TaskID, &w.Stage, &w.Model,
			timeCol{&w.SubmittedAt}, &w.JobID); err != nil {
			return nil, fmt.Errorf("list provider waits: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// WaitDelete forgets a stage's wait.
func (s *Store) WaitDelete(ctx context.Context, taskID, stage string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM provider_wait WHERE task_id = $1 AND stage = $2`, taskID, stage); err != nil {
		return fmt.Errorf("delete provider wait: %w", err)
	}
	return nil
}

// deleteTaskWaits forgets every wait of a task that ended.
func deleteTaskWaits(ctx context.Context, tx *sql.Tx, taskID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM provider_wait WHERE task_id = $1`, taskID); err != nil {
		return fmt.Errorf("delete provider waits: %w", err)
	}
	return nil
}
