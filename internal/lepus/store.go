package lepus

import (
	"context"
	"database/sql"
	"time"
)

// Store is the persistence Lepus needs. One implementation serves SQLite and
// Postgres through database/sql; a shared conformance suite tests both.
// Every method is safe for concurrent use.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error

	// TaskCreate accepts a task in one transaction: it resolves the
	// idempotency key, opens the user's credit account with the starting
	// grant if it has none, debits the cost (ECredits if short), inserts the
	// task and calls Enqueue with the same transaction so the queue job
	// commits with the row. When the key was seen before with the same
	// request hash it returns that task and created=false; with another hash
	// it returns EConflict. With MaxInFlight set, a user already at the cap
	// gets ELimit (a replay of a known key is answered regardless).
	TaskCreate(ctx context.Context, p *TaskCreateParams) (task *Task, created bool, err error)
	// TaskGet returns a task with its assets, or ENotFound.
	TaskGet(ctx context.Context, id string) (*Task, error)
	// TaskGetByCallbackToken returns the task owning a callback token, or ENotFound.
	TaskGetByCallbackToken(ctx context.Context, token string) (*Task, error)
	// TaskList returns a user's tasks, newest first, with cursor pagination.
	TaskList(ctx context.Context, p *TaskListParams) (tasks []*Task, next string, err error)
	// TaskSave writes the mutable progress fields of a task that has not
	// ended (status pending|processing only): Status, Progress, Step, Stages,
	// Notes, StartedAt. It returns ErrTaskEnded if the task has ended.
	TaskSave(ctx context.Context, t *Task) error
	// TaskFinish moves a task to a terminal status exactly once: it records
	// the error, sets FinishedAt, releases every provider slot the task holds
	// and, for failed or canceled tasks, refunds the cost exactly once (for
	// completed tasks, the partial Refund, if any). OnTx,
	// if set, runs inside the same transaction (to cancel the queue job).
	// It returns ErrTaskEnded if the task had already ended.
	TaskFinish(ctx context.Context, p *TaskFinishParams) (*Task, error)
	// TaskListUnfinished returns tasks not yet ended, oldest first (for
	// operators and the crash-recovery tests).
	TaskListUnfinished(ctx context.Context, limit int) ([]*Task, error)

	// AssetUpsert stores an asset keyed by (TaskID, Stage, Index): a second
	// call with the same key updates the row and keeps its id.
	AssetUpsert(ctx context.Context, a *Asset) (*Asset, error)
	// AssetGet returns an asset, or ENotFound.
	AssetGet(ctx context.Context, id string) (*Asset, error)
	// AssetGetByProviderID returns the user's newest asset with that
	// provider id (a Kling video id), or ENotFound.
	AssetGetByProviderID(ctx context.Context, userID, providerID string) (*Asset, error)

	// UploadCreate records an upload.
	UploadCreate(ctx context.Context, u *Upload) error
	// UploadGet returns an upload, or ENotFound.
	UploadGet(ctx context.Context, id string) (*Upload, error)

	// AvatarSave inserts a new avatar (CreatedAt zero) or updates one read
	// before, failing with EConflict if it was saved since.
	AvatarSave(ctx context.Context, a *Avatar) error
	// AvatarGet returns an avatar that is not deleted, or ENotFound.
	AvatarGet(ctx context.Context, id string) (*Avatar, error)
	// AvatarList returns a user's avatars, newest first.
	AvatarList(ctx context.Context, userID string) ([]*Avatar, error)
	// AvatarDelete marks an avatar deleted; ENotFound if there is none.
	AvatarDelete(ctx context.Context, id string) error

	// CreditBalance returns a user's balance; a user without an account has
	// the starting grant (the account is created on first debit).
	CreditBalance(ctx context.Context, userID string, grant int) (int, error)
	// CreditLedger returns a user's ledger entries, newest first.
	CreditLedger(ctx context.Context, userID string, limit int) ([]LedgerEntry, error)

	// SlotAcquire takes cost units of a provider concurrency pool for holder
	// if the pool's used units plus cost stay within capacity and no older
	// waiter is ahead (first come first served); otherwise the holder joins
	// the pool's waiting line, keeping its place on later calls. It is atomic
	// across processes and idempotent per holder (a holder that already has
	// its slot gets true again without taking more).
	SlotAcquire(ctx context.Context, p *SlotAcquireParams) (bool, error)
	// SlotRelease gives back the holder's units (and its place in a waiting
	// line); releasing twice is a no-op.
	SlotRelease(ctx context.Context, holder string) error
	// SlotNext returns the waiters at the head of each pool's line whose
	// units fit in what is free now, oldest first: the tasks to wake.
	SlotNext(ctx context.Context) ([]SlotWaiter, error)
	// SlotUsage returns the units in use in a pool.
	SlotUsage(ctx context.Context, pool string) (int, error)

	// WaitAdd records that a stage waits on a provider task (once).
	WaitAdd(ctx context.Context, w *ProviderWait) error
	// WaitList returns the provider tasks waited on at a provider, oldest
	// first, with their tasks' jobs.
	WaitList(ctx context.Context, provider string) ([]ProviderWait, error)
	// WaitDelete forgets a stage's wait (TaskFinish forgets all of a task's).
	WaitDelete(ctx context.Context, taskID, stage string) error

	// WebhookSecretGet returns the user's webhook signing secret, storing
	// fresh (a newly made secret) first if the user has none.
	WebhookSecretGet(ctx context.Context, userID, fresh string) (string, error)
	// WebhookSecretSet replaces the user's signing secret (a rotation).
	WebhookSecretSet(ctx context.Context, userID, secret string) error
	// WebhookAttemptAdd records a webhook delivery attempt (shown on its
	// task as WebhookAttempts).
	WebhookAttemptAdd(ctx context.Context, a *WebhookAttempt) error

	// ProcessBeat records that a job-running process is alive.
	ProcessBeat(ctx context.Context, p *Process) error
	// ProcessLive returns the ids of processes that beat within lapse.
	ProcessLive(ctx context.Context, lapse time.Duration) (map[string]bool, error)
	// ProcessDelete removes process id (and long-lapsed ones), or, with
	// keep set, every process but keep.
	ProcessDelete(ctx context.Context, id, keep string) error
}

// ProviderWait is a stage waiting on a provider task.
type ProviderWait struct {
	Provider       string
	Endpoint       string
	ProviderTaskID string
	TaskID         string
	Stage          string
	Model          string
	SubmittedAt    time.Time
	JobID          int64 // the task's queue job, woken when the provider task ends
}

// Process is a running lepus process that works jobs.
type Process struct {
	ID   string
	Host string
	PID  int
}

// TaskCreateParams are the inputs of Store.TaskCreate. Task carries ID,
// UserID, Type, Input, Stages, Notes, Cost, CallbackToken, IdempotencyKey and
// RequestHash; status starts pending.
type TaskCreateParams struct {
	Task *Task
	// Grant is the starting balance of a user who has no credit account yet.
	Grant int
	// Enqueue inserts the queue job in tx and returns its id (a
	// transaction hook: see WebhookHook).
	Enqueue func(ctx context.Context, tx *sql.Tx, t *Task) (jobID int64, err error)
	// MaxInFlight, when above zero, caps the user's tasks in flight (pending
	// or processing): a create that would exceed it is ELimit. The count is
	// taken in the create transaction, so the cap holds across processes.
	MaxInFlight int
}

// TaskListParams filter Store.TaskList. Empty fields do not filter.
type TaskListParams struct {
	UserID string
	Status TaskStatus
	Type   string
	// IdempotencyKey, when set, finds the task created with that key.
	IdempotencyKey string
	// Cursor is the opaque next value of a previous page.
	Cursor string
	// Limit defaults to 20 and is capped at 100.
	Limit int
}

// TaskFinishParams are the inputs of Store.TaskFinish.
type TaskFinishParams struct {
	ID     string
	Status TaskStatus // completed, failed or canceled
	Error  *TaskError
	// Progress to record; completed tasks are set to 100 regardless.
	Progress int
	// Stages and Notes, when non-nil, replace the stored ones.
	Stages []Stage
	Notes  []string
	// Refund, for a completed task, gives back that many of its credits
	// (once): the share of parts that failed. Failed and canceled tasks get
	// all their credits back regardless.
	Refund int
	// OnTx runs inside the finishing transaction (a transaction hook: see
	// WebhookHook); the cancel path uses it to cancel the queue job.
	OnTx func(ctx context.Context, tx *sql.Tx, t *Task) error
}

// WebhookHook is called by the store in the transaction of a task change
// that is an event the task's webhook subscribes to, to queue its delivery.
//
// It, TaskCreateParams.Enqueue and TaskFinishParams.OnTx are the domain's
// only use of database/sql, and on purpose: each inserts or cancels a River
// job, and River's InsertTx and JobCancelTx work only inside the caller's
// *sql.Tx, which is how a task row and its job commit together or not at
// all. Nothing else in this package needs the database; the pool itself is
// the concrete store's (sqlstore.Store.DB), for cmd/lepus to share with
// the queue.
type WebhookHook func(ctx context.Context, tx *sql.Tx, ev *WebhookEvent) error

// SlotAcquireParams are the inputs of Store.SlotAcquire.
type SlotAcquireParams struct {
	Pool     string
	Capacity int
	Holder   string // e.g. "<task id>/image"
	TaskID   string
	Cost     int
}

// SlotWaiter is a task waiting for units of a provider pool.
type SlotWaiter struct {
	Pool   string
	TaskID string
	JobID  int64
}

// LedgerEntry is one credit movement.
type LedgerEntry struct {
	ID        int64
	UserID    string
	TaskID    string
	Kind      string // grant | debit | refund
	Amount    int    // positive for grant and refund, negative for debit
	CreatedAt time.Time
}

// Ledger entry kinds.
const (
	LedgerGrant  = "grant"
	LedgerDebit  = "debit"
	LedgerRefund = "refund"
)
