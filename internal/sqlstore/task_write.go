package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// TaskSave writes a running task's progress. The status guard is in the
// UPDATE itself, so a worker can never overwrite a cancel that committed
// in between its read and its write.
func (s *Store) TaskSave(ctx context.Context, t *lepus.Task) error {
	if t == nil || t.ID == "" {
		return lepus.Errorf(lepus.EInvalid, "task id is required")
	}
	if t.Status != lepus.StatusPending && t.Status != lepus.StatusProcessing {
		return lepus.Errorf(lepus.EInvalid, "TaskSave cannot set status %q; use TaskFinish", t.Status)
	}
	stages, notes, _, err := encodeTaskJSON(t.Stages, t.Notes, nil)
	if err != nil {
		return err
	}
	now := s.clock()
	if s.wantsStart(t) {
		// The save that starts the task is its webhook's start event,
		// recorded in the same transaction.
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			return s.saveStarting(ctx, tx, t, stages, notes, now)
		})
	} else {
		err = saveRow(ctx, s.db, s.d, t, stages, notes, now)
	}
	if err != nil {
		return err
	}
	t.UpdatedAt = now
	s.published(t.ID)
	return nil
}

// saveRow writes a running task's progress fields; ErrTaskEnded if it ended.
func saveRow(ctx context.Context, q querier, d dialect, t *lepus.Task, stages, notes string, now time.Time) error {
	res, err := q.ExecContext(ctx, `UPDATE task SET status = $2, progress = $3, step = $4,
			stages = $5, notes = $6, started_at = $7, updated_at = $8
		WHERE id = $1 AND status IN ('pending', 'processing')`,
		t.ID, string(t.Status), clampProgress(t.Progress), t.Step, stages, notes,
		d.tsPtr(t.StartedAt), d.ts(now))
	if err != nil {
		return fmt.Errorf("save task: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("save task: %w", err)
	}
	if n == 0 {
		var status string
		err := q.QueryRowContext(ctx, `SELECT status FROM task WHERE id = $1`, t.ID).Scan(&status)
		if err != nil {
			return mapErr(err, "save task", "task")
		}
		return lepus.ErrTaskEnded
	}
	return nil
}

// TaskFinish ends a task once. The guarded UPDATE decides which of two
// concurrent finishers wins; only the winner releases slots and refunds.
func (s *Store) TaskFinish(ctx context.Context, p *lepus.TaskFinishParams) (*lepus.Task, error) {
	if p == nil || p.ID == "" {
		return nil, lepus.Errorf(lepus.EInvalid, "task id is required")
	}
	if !p.Status.Terminal() {
		return nil, lepus.Errorf(lepus.EInvalid, "TaskFinish needs a terminal status, got %q", p.Status)
	}
	now := s.clock()
	var out *lepus.Task
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		t, err := getTask(ctx, tx, "id", p.ID)
		if err != nil {
			return err
		}
		if t.Status.Terminal() {
			return lepus.ErrTaskEnded
		}
		t.Status, t.Error, t.Progress = p.Status, p.Error, clampProgress(p.Progress)
		if t.Status == lepus.StatusCompleted {
			t.Progress = 100
		}
		if p.Stages != nil {
			t.Stages = p.Stages
		}
		if p.Notes != nil {
			t.Notes = p.Notes
		}
		t.FinishedAt, t.UpdatedAt = &now, now
		if err := s.finishRow(ctx, tx, t); err != nil {
			return err
		}
		if err := s.releaseTaskSlots(ctx, tx, t.ID); err != nil {
			return err
		}
		if err := deleteTaskWaits(ctx, tx, t.ID); err != nil {
			return err
		}
		switch {
		case t.Status != lepus.StatusCompleted:
			if err := s.refund(ctx, tx, t.ID, 0, now); err != nil {
				return err
			}
		case p.Refund > 0:
			if err := s.refund(ctx, tx, t.ID, p.Refund, now); err != nil {
				return err
			}
		}
		if p.OnTx != nil {
			if err := p.OnTx(ctx, tx, t); err != nil {
				return fmt.Errorf("finish task hook: %w", err)
			}
		}
		if err := s.emitWebhook(ctx, tx, lepus.WebhookCompleted, "", t, now); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		return nil, mapErr(err, "finish task", "task")
	}
	s.published(out.ID)
	return out, nil
}

// finishRow writes the terminal state if the task is still running.
func (s *Store) finishRow(ctx context.Context, tx *sql.Tx, t *lepus.Task) error {
	stages, notes, errJS, err := encodeTaskJSON(t.Stages, t.Notes, t.Error)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE task SET status = $2, progress = $3, stages = $4,
			notes = $5, error = $6, finished_at = $7, updated_at = $7
		WHERE id = $1 AND status IN ('pending', 'processing')`,
		t.ID, string(t.Status), t.Progress, stages, notes, errJS, s.d.ts(*t.FinishedAt))
	if err != nil {
		return fmt.Errorf("finish task: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("finish task: %w", err)
	}
	if n == 0 {
		return lepus.ErrTaskEnded
	}
	return nil
}

func clampProgress(p int) int {
	return max(0, min(p, 100))
}
