package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// TaskCreate accepts p.Task in one transaction: credit account, in-flight
// cap, enqueue, insert, debit. Concurrent creates share that transaction's
// commit (groupcommit.go). A nil p.Enqueue leaves JobID 0. The caller's Task
// is not modified; the stored task is returned.
//
// The idempotency key is not looked up first (the caller has, before its
// own checks): the unique index catches a key used meanwhile, and the task
// it names is then read once.
func (s *Store) TaskCreate(ctx context.Context, p *lepus.TaskCreateParams) (*lepus.Task, bool, error) {
	if err := validateCreate(p); err != nil {
		return nil, false, err
	}
	now := s.clock()
	t := *p.Task
	t.Status, t.Progress, t.Error, t.JobID = lepus.StatusPending, 0, nil, 0
	t.CreatedAt, t.UpdatedAt, t.StartedAt, t.FinishedAt, t.Assets = now, now, nil, nil, nil

	var (
		existing *lepus.Task
		err      error
	)
	if s.group != nil {
		existing, err = s.group.create(ctx, p, &t)
	} else {
		existing, err = s.createAlone(ctx, p, &t)
	}
	if err != nil && t.IdempotencyKey != "" && classify(err) == errUnique {
		// Another request with the same key committed first: answer with
		// its task. The transaction is over, so the pool is free to use.
		existing, err = taskByKey(ctx, s.db, t.UserID, t.IdempotencyKey)
		if err == nil && existing == nil {
			err = &lepus.Error{Code: lepus.EConflict, Field: "header.Idempotency-Key",
				Message: "a request with this Idempotency-Key is being created; retry it"}
		}
	}
	if err != nil {
		return nil, false, mapErr(err, "create task", "task")
	}
	if existing != nil {
		if existing.RequestHash != t.RequestHash {
			return nil, false, &lepus.Error{Code: lepus.EConflict, Field: "header.Idempotency-Key",
				Message: fmt.Sprintf("idempotency key %q was already used with a different request", t.IdempotencyKey)}
		}
		return existing, false, nil
	}
	return &t, true, nil
}

// createAlone runs one create in a transaction of its own.
func (s *Store) createAlone(ctx context.Context, p *lepus.TaskCreateParams, t *lepus.Task) (existing *lepus.Task, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		existing, err = s.createInTx(ctx, tx, p, t)
		return err
	})
	return existing, err
}

// createInTx writes one create in tx and sets t.JobID. It returns an
// existing task only when the in-flight cap refuses a create whose
// idempotency key a concurrent create committed meanwhile.
//
// Lock order: the user's credit row first (the debit, or for a free task a
// lock alone), then the task row with its idempotency key. Every create
// takes them in this order, and a group takes its users in order, so on
// Postgres concurrent groups and processes wait for each other but never
// deadlock. One user's creates therefore commit one after another; other
// users' are not held up.
func (s *Store) createInTx(ctx context.Context, tx *sql.Tx, p *lepus.TaskCreateParams, t *lepus.Task) (*lepus.Task, error) {
	now := t.CreatedAt
	var err error
	if t.Cost > 0 {
		err = s.debit(ctx, tx, t.UserID, t.ID, t.Cost, now, p.Grant)
	} else {
		err = s.lockAccount(ctx, tx, t.UserID, p.Grant, now)
	}
	if err != nil {
		return nil, err
	}
	if p.MaxInFlight > 0 {
		if err := checkInFlight(ctx, tx, t.UserID, p.MaxInFlight); err != nil {
			if t.IdempotencyKey == "" || lepus.ErrorCode(err) != lepus.ELimit {
				return nil, err
			}
			// A create with the same key may have committed while we
			// waited for the user's lock: its task is in the count, and a
			// replay is answered at the cap. A new statement sees it (READ
			// COMMITTED).
			old, kerr := taskByKey(ctx, tx, t.UserID, t.IdempotencyKey)
			if kerr != nil || old == nil {
				return nil, cmp.Or(kerr, err)
			}
			return old, nil
		}
	}
	// The job before the task, so the task row is written once with its
	// job id.
	if p.Enqueue != nil {
		jobID, err := p.Enqueue(ctx, tx, t)
		if err != nil {
			return nil, fmt.Errorf("enqueue task: %w", err)
		}
		t.JobID = jobID
	}
	return nil, s.insertTask(ctx, tx, t)
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

const insertTaskSQL = `INSERT INTO task (` + taskColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`

// taskArgs are insertTaskSQL's arguments.
func (s *Store) taskArgs(t *lepus.Task) ([]any, error) {
	var input any
	if len(t.Input) > 0 {
		input = string(t.Input)
	}
	stages, notes, errJS, err := encodeTaskJSON(t.Stages, t.Notes, t.Error)
	if err != nil {
		return nil, err
	}
	return []any{t.ID, t.UserID, t.Type, string(t.Status), t.Progress, t.Step, input, stages, notes, errJS,
		t.Cost, t.CallbackToken, t.IdempotencyKey, t.RequestHash, t.JobID,
		s.d.ts(t.CreatedAt), s.d.ts(t.UpdatedAt), s.d.tsPtr(t.StartedAt), s.d.tsPtr(t.FinishedAt),
		t.WebhookURL, webhookEventsJSON(t.WebhookEvents), t.RequestID}, nil
}

func (s *Store) insertTask(ctx context.Context, tx *sql.Tx, t *lepus.Task) error {
	args, err := s.taskArgs(t)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, insertTaskSQL, args...); err != nil {
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
