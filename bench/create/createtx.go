package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// benchUser owns every task of the DB phase: one user, one credit row, as
// the Lepus phase's one API user.
const benchUser = "bench"

// faceSwap is the face swap's task type, which is also its River job
// kind (internal/workflow, internal/job).
const faceSwap = "face_swap"

// createCost is what each create debits.
const createCost = 1

// createArgs is the DB phase's River job: a task id, like Lepus's job
// args, under a kind nothing runs.
type createArgs struct {
	TaskID string `json:"task_id"`
}

func (createArgs) Kind() string { return "bench_create" }

// createTx is one create's writes in one transaction: what
// sqlstore.TaskCreate does after its checks (the idempotency lookup and
// the account's INSERT … ON CONFLICT DO NOTHING are left out). The
// statements are prepared once and bound to each transaction.
type createTx struct {
	db                  *sql.DB
	queue               *job.Client
	ts                  func(time.Time) any // a timestamp column's value
	task, debit, ledger *sql.Stmt
	input, stages, hash string // a real face swap's stored request and plan
	maxAttempts         int
}

// newCreateTx prepares the statements and opens benchUser's credit
// account with a balance no run can spend.
func newCreateTx(ctx context.Context, db *sql.DB, dialect string, queue *job.Client) (*createTx, error) {
	w := &createTx{db: db, queue: queue, ts: func(t time.Time) any { return t }}
	if dialect == sqlstore.DialectSQLite {
		w.ts = func(t time.Time) any { return t.UnixMicro() } // SQLite's columns hold unix µs
	}
	if err := w.fillRow(); err != nil {
		return nil, err
	}
	now := w.ts(time.Now())
	if _, err := db.ExecContext(ctx, `INSERT INTO credit_account (user_id, balance, created_at, updated_at)
		VALUES ($1, $2, $3, $3)`, benchUser, int64(1e15), now); err != nil {
		return nil, fmt.Errorf("open credit account: %w", err)
	}
	var err error
	prepare := func(query string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = db.PrepareContext(ctx, query)
		return s
	}
	// The same statements as sqlstore's insertTask and debit.
	w.task = prepare(`INSERT INTO task (id, user_id, type, status, progress, step, input, stages, notes, error,
		cost, callback_token, idempotency_key, request_hash, job_id,
		created_at, updated_at, started_at, finished_at, webhook_url, webhook_events, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`)
	w.debit = prepare(`UPDATE credit_account SET balance = balance - $2, updated_at = $3
		WHERE user_id = $1 AND balance >= $2`)
	w.ledger = prepare(`INSERT INTO credit_ledger (user_id, task_id, kind, amount, created_at)
		VALUES ($1, $2, $3, $4, $5)`)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return w, nil
}

// fillRow fills in the columns a real face swap stores: its normalized
// request as Lepus keeps it (upload URLs of Lepus's shape), its planned
// stages with their costs, and the request hash.
func (w *createTx) fillRow() error {
	def := workflow.NewRegistry(0).Get(faceSwap)
	if def == nil {
		return errors.New("no " + faceSwap + " workflow")
	}
	scene, face := fakeUploads("127.0.0.1:8080")
	req := &workflow.FaceSwapRequest{SourceImageURL: scene, FaceImageURL: face}
	if err := req.Normalize(); err != nil {
		return err
	}
	input, err := json.Marshal(req)
	if err != nil {
		return err
	}
	stages := def.Plan(req)
	workflow.AssignCosts(stages, createCost)
	planned, err := json.Marshal(stages)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(append([]byte(faceSwap+"\n"), input...))
	w.input, w.stages, w.hash = string(input), string(planned), hex.EncodeToString(sum[:])
	w.maxAttempts = def.Policy.MaxRetries + 1
	return nil
}

// create runs one create's transaction; i keys its idempotency key.
func (w *createTx) create(ctx context.Context, i int) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := app.NewID("tsk_")
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed
	res, err := w.queue.InsertTx(ctx, tx, createArgs{TaskID: id}, &river.InsertOpts{Queue: job.QueueName, MaxAttempts: w.maxAttempts})
	if err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	if _, err := tx.StmtContext(ctx, w.task).ExecContext(ctx,
		id, benchUser, faceSwap, string(lepus.StatusPending), 0, "queued", w.input, w.stages, "[]", nil,
		createCost, app.NewID(""), fmt.Sprintf("create-db-%d", i), w.hash, res.Job.ID,
		w.ts(now), w.ts(now), nil, nil, "", "[]", lepusproc.RandomHex(8)); err != nil {
		return fmt.Errorf("insert task: %w", err)
	}
	r, err := tx.StmtContext(ctx, w.debit).ExecContext(ctx, benchUser, createCost, w.ts(now))
	if err != nil {
		return fmt.Errorf("debit: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("debit: %d rows (%v)", n, err)
	}
	if _, err := tx.StmtContext(ctx, w.ledger).ExecContext(ctx,
		benchUser, id, lepus.LedgerDebit, -createCost, w.ts(now)); err != nil {
		return fmt.Errorf("insert ledger entry: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// count is the number of creates committed: tasks that have their debit.
func (w *createTx) count(ctx context.Context) (int, error) {
	var n int
	err := w.db.QueryRowContext(ctx, `SELECT count(*) FROM task JOIN credit_ledger ON credit_ledger.task_id = task.id
		WHERE credit_ledger.kind = $1`, lepus.LedgerDebit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count creates: %w", err)
	}
	return n, nil
}

func (w *createTx) close() {
	for _, s := range []*sql.Stmt{w.task, w.debit, w.ledger} {
		if s != nil {
			_ = s.Close()
		}
	}
}
