package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// TaskCreate accepts p.Task in one transaction: idempotency lookup, credit
// account, debit, insert, enqueue. A nil p.Enqueue leaves JobID 0. The
// caller's Task is not modified; the stored task is returned.
func (s *Store) TaskCreate(ctx context.Context, p *lepus.TaskCreateParams) (*lepus.Task, bool, error) {
	if err := validateCreate(p); err != nil {
		return nil, false, err
	}
	now := s.clock()
	t := *p.Task
	t.Status, t.Progress, t.Error, t.JobID = lepus.StatusPending, 0, nil, 0
	t.CreatedAt, t.UpdatedAt, t.StartedAt, t.FinishedAt, t.Assets = now, now, nil, nil, nil

	var existing *lepus.Task
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if t.IdempotencyKey != "" {
			old, err := taskByKey(ctx, tx, t.UserID, t.IdempotencyKey)
			if err != nil || old != nil {
				existing = old
				return err
			}
		}
		if err := s.openAccount(ctx, tx, t.UserID, p.Grant, now); err != nil {
			return err
		}
		if p.MaxInFlight > 0 {
			if err := s.checkInFlight(ctx, tx, t.UserID, p.MaxInFlight); err != nil {
				if t.IdempotencyKey == "" || lepus.ErrorCode(err) != lepus.ELimit {
					return err
				}
				// A create with the same key may have committed while we
				// waited for the user's lock (our lookup above ran before
				// it): its task is in the count, and a replay is answered
				// at the cap. A new statement sees it (READ COMMITTED).
				old, kerr := taskByKey(ctx, tx, t.UserID, t.IdempotencyKey)
				switch {
				case kerr != nil:
					return kerr
				case old == nil:
					return err
				}
				existing = old
				return nil
			}
		}
		// The job first, so the task row is written once with its job id.
		if p.Enqueue != nil {
			jobID, err := p.Enqueue(ctx, tx, &t)
			if err != nil {
				return fmt.Errorf("enqueue task: %w", err)
			}
			t.JobID = jobID
		}
		if err := s.insertTask(ctx, tx, &t); err != nil {
			return err
		}
		// The debit last: it locks the user's credit row, and concurrent
		// creates of one user wait on that lock only until this commits.
		// (With MaxInFlight set, checkInFlight took the lock above, on
		// Postgres: one user's creates then run one at a time.)
		if t.Cost > 0 {
			return s.debit(ctx, tx, t.UserID, t.ID, t.Cost, now)
		}
		return nil
	})
	if err != nil && t.IdempotencyKey != "" && classify(err) == errUnique {
		// Another request with the same key committed first: answer as if
		// we had seen it in the lookup. The transaction is over, so the
		// pool is free to use.
		existing, err = taskByKey(ctx, s.db, t.UserID, t.IdempotencyKey)
		if err == nil && existing == nil {
			err = lepus.Errorf(lepus.EConflict, "task already exists")
		}
	}
	if err != nil {
		return nil, false, mapErr(err, "create task", "task")
	}
	if existing != nil {
		if existing.RequestHash != t.RequestHash {
			return nil, false, lepus.Errorf(lepus.EConflict,
				"idempotency key %q was already used with a different request", t.IdempotencyKey)
		}
		return existing, false, nil
	}
	return &t, true, nil
}

func validateCreate(p *lepus.TaskCreateParams) error {
	switch {
	case p == nil || p.Task == nil:
		return lepus.Errorf(lepus.EInvalid, "task is required")
	case p.Task.ID == "" || p.Task.UserID == "" || p.Task.Type == "":
		return lepus.Errorf(lepus.EInvalid, "task needs an id, a user id and a type")
	case p.Task.Cost < 0 || p.Grant < 0:
		return lepus.Errorf(lepus.EInvalid, "cost and grant must not be negative")
	case len(p.Task.Input) > 0 && !json.Valid(p.Task.Input):
		return lepus.Errorf(lepus.EInvalid, "task input is not valid JSON")
	}
	return nil
}

// taskByKey returns the task a user created with an idempotency key, or nil.
func taskByKey(ctx context.Context, q querier, userID, key string) (*lepus.Task, error) {
	var id string
	// "<> ''" lets both databases use the partial unique index; without
	// it they scan the user's tasks.
	err := q.QueryRowContext(ctx, `SELECT id FROM task WHERE user_id = $1 AND idempotency_key = $2 AND idempotency_key <> ''`,
		userID, key).Scan(&id)
	if classify(err) == errNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find idempotency key: %w", err)
	}
	return getTask(ctx, q, "id", id)
}

func (s *Store) insertTask(ctx context.Context, tx *sql.Tx, t *lepus.Task) error {
	var input any
	if len(t.Input) > 0 {
		input = string(t.Input)
	}
	stages, notes, errJS, err := encodeTaskJSON(t.Stages, t.Notes, t.Error)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO task (`+taskColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		t.ID, t.UserID, t.Type, string(t.Status), t.Progress, t.Step, input, stages, notes, errJS,
		t.Cost, t.CallbackToken, t.IdempotencyKey, t.RequestHash, t.JobID,
		s.d.ts(t.CreatedAt), s.d.ts(t.UpdatedAt), s.d.tsPtr(t.StartedAt), s.d.tsPtr(t.FinishedAt),
		t.WebhookURL, webhookEventsJSON(t.WebhookEvents), t.RequestID)
	if err != nil {
		// Keep unique violations recognizable for the idempotency race.
		return fmt.Errorf("insert task: %w", err)
	}
	return nil
}

// encodeTaskJSON marshals the JSON columns; nil slices are stored as [] and a
// nil error as NULL.
func encodeTaskJSON(stages []lepus.Stage, notes []string, taskErr *lepus.TaskError) (st, nt string, er any, err error) {
	if stages == nil {
		stages = []lepus.Stage{}
	}
	if notes == nil {
		notes = []string{}
	}
	b, err := json.Marshal(stages)
	if err != nil {
		return "", "", nil, fmt.Errorf("encode stages: %w", err)
	}
	st = string(b)
	if b, err = json.Marshal(notes); err != nil {
		return "", "", nil, fmt.Errorf("encode notes: %w", err)
	}
	nt = string(b)
	if taskErr != nil {
		if b, err = json.Marshal(taskErr); err != nil {
			return "", "", nil, fmt.Errorf("encode error: %w", err)
		}
		er = string(b)
	}
	return st, nt, er, nil
}
