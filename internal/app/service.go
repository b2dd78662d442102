// Package app is Lepus's application layer: it turns API requests into
// tasks, uploads and asset reads, enforcing ownership, input checks and
// credits. The HTTP layer calls it; it calls the store, queue and storage.
package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// Service is the application layer. Build it with its fields set; every
// method is safe for concurrent use.
type Service struct {
	Store     lepus.Store
	Workflows *workflow.Registry
	Blob      *blob.Store
	Fetch     *fetch.Client
	// Enqueue inserts a task's job in the task's transaction.
	Enqueue func(ctx context.Context, tx *sql.Tx, t *lepus.Task) (int64, error)
	// CancelJob cancels a task's job in the cancel transaction.
	CancelJob func(ctx context.Context, tx *sql.Tx, jobID int64) error
	// Queue makes queued jobs run now (a create, a provider callback) and
	// wakes the tasks a freed provider slot lets go on (a cancel).
	Queue Queue
	Costs map[string]int
	// Grant is the starting balance of a new user.
	Grant int
	// PublicURL is the base of asset and upload URLs.
	PublicURL string
	// Mode is "sandbox" or "live".
	Mode string
	// Unavailable names providers that are not configured, with the reason
	// (a workflow that needs one is refused before anything is paid).
	Unavailable map[string]string
	// Slots is each provider pool's capacity, by pool name
	// (workflow.PoolKlingImage: KLING_IMAGE_SLOTS, …). A task with a stage
	// that needs more of a pool than it holds could never start, so it is
	// refused before anything is paid. A pool missing here is not checked.
	Slots  map[string]int
	Hub    *Hub
	Now    func() time.Time
	Logger *slog.Logger

	// MaxInFlight caps each user's unfinished tasks (0: no cap); the store
	// counts them in the create transaction (LEPUS_MAX_IN_FLIGHT).
	MaxInFlight int
}

// Queue is what the application asks of the job queue beyond inserting
// and cancelling jobs in its transactions.
type Queue interface {
	// Wake makes waiting jobs run now.
	Wake(ctx context.Context, jobIDs ...int64)
	// Kick tells the workers a job is ready (after a create commits).
	Kick(ctx context.Context)
	// Handover wakes the tasks waiting for provider slots that are free.
	Handover(ctx context.Context)
	// CalledBack is told of a provider callback for t: it frees the slot of
	// a provider task that re-querying shows ended, and wakes t's job.
	CalledBack(ctx context.Context, t *lepus.Task)
}

// CreateTaskParams are the inputs of CreateTask.
type CreateTaskParams struct {
	UserID         string
	Type           string
	Request        workflow.Request
	IdempotencyKey string
	// Webhook, if its URL is set, receives the task's events.
	Webhook Webhook
}

// CreateTask validates a workflow request, checks its image inputs, debits
// its cost and queues it, all before any provider call. created is false
// when an earlier request with the same idempotency key is returned.
func (s *Service) CreateTask(ctx context.Context, p CreateTaskParams) (*lepus.Task, bool, error) {
	def := s.Workflows.Get(p.Type)
	if def == nil {
		return nil, false, lepus.Errorf(lepus.ENotFound, "unknown workflow %q", p.Type)
	}
	if err := checkIdempotencyKey(p.IdempotencyKey); err != nil {
		return nil, false, err
	}
	if err := s.checkWebhook(&p.Webhook); err != nil {
		return nil, false, err
	}
	// Before Normalize, so a field is named as the client sent it (style
	// tags are trimmed and compacted by Normalize).
	if err := workflow.CheckText(p.Request); err != nil {
		return nil, false, err
	}
	if err := p.Request.Normalize(); err != nil {
		return nil, false, err
	}
	// The hash covers the request as the client sent it (after defaults),
	// before input checks may rewrite URLs.
	raw, err := json.Marshal(p.Request)
	if err != nil {
		return nil, false, fmt.Errorf("encode request: %w", err)
	}
	sum := sha256.Sum256(append(append([]byte(p.Type+"\n"), raw...), webhookHashPart(p.Webhook)...))
	hash := hex.EncodeToString(sum[:])
	if p.IdempotencyKey != "" {
		if t, err := s.findIdempotent(ctx, p, hash); t != nil || err != nil {
			return t, false, err
		}
	}
	var notes []string
	for _, in := range p.Request.Images() {
		note, err := s.checkImage(ctx, p.UserID, in)
		if err != nil {
			return nil, false, err
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	if def.Check != nil {
		more, err := def.Check(ctx, p.UserID, p.Request, inputs{s})
		if err != nil {
			return nil, false, err
		}
		notes = append(notes, more...)
	}
	input, err := json.Marshal(p.Request)
	if err != nil {
		return nil, false, fmt.Errorf("encode input: %w", err)
	}
	t := &lepus.Task{
		ID: NewID("tsk_"), UserID: p.UserID, Type: p.Type, Status: lepus.StatusPending,
		Input: input, Stages: def.Plan(p.Request), Notes: notes,
		Cost: def.Cost(p.Request, s.Costs), CallbackToken: NewID(""),
		IdempotencyKey: p.IdempotencyKey, RequestHash: hash, Step: "queued", RequestID: lepus.RequestID(ctx),
	}
	t.WebhookURL, t.WebhookEvents = p.Webhook.URL, p.Webhook.Events
	workflow.AssignCosts(t.Stages, t.Cost)
	for _, st := range t.Stages {
		if why, ok := s.Unavailable[st.Provider]; ok {
			return nil, false, lepus.Errorf(lepus.EInvalid, "%s", why)
		}
	}
	if err := s.checkSlots(p.Request, t.Stages); err != nil {
		return nil, false, err
	}
	t, created, err := s.Store.TaskCreate(ctx, &lepus.TaskCreateParams{Task: t, Grant: s.Grant, Enqueue: s.Enqueue,
		MaxInFlight: s.MaxInFlight})
	if err != nil {
		return nil, false, err
	}
	if created {
		s.Logger.InfoContext(ctx, "task accepted", "task_id", t.ID, "task_type", t.Type, "user_id", t.UserID, "cost", t.Cost) // request_id: from ctx (logging.New)
		if s.Queue != nil {
			s.Queue.Kick(ctx)
		}
	}
	return t, created, nil
}

// checkIdempotencyKey refuses a key that is longer than 255 characters or
// holds anything but printable ASCII: the key is stored and compared as
// text, and Postgres refuses invalid UTF-8 (a Latin-1 "é" sent raw).
func checkIdempotencyKey(key string) error {
	if len(key) > 255 {
		return lepus.FieldErrorf("header.Idempotency-Key", "must be at most 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e {
			return lepus.FieldErrorf("header.Idempotency-Key", "must be printable ASCII; byte %d is 0x%02X", i, c)
		}
	}
	return nil
}

// findIdempotent returns the task an earlier request with the same key
// created, nil if there is none, or EConflict if its body differed.
func (s *Service) findIdempotent(ctx context.Context, p CreateTaskParams, hash string) (*lepus.Task, error) {
	tasks, _, err := s.Store.TaskList(ctx, &lepus.TaskListParams{UserID: p.UserID, IdempotencyKey: p.IdempotencyKey, Limit: 1})
	if err != nil || len(tasks) == 0 {
		return nil, err
	}
	if tasks[0].RequestHash != hash {
		return nil, &lepus.Error{Code: lepus.EConflict, Field: "header.Idempotency-Key",
			Message: "this Idempotency-Key was already used with a different request"}
	}
	return s.Store.TaskGet(ctx, tasks[0].ID)
}

// GetTask returns a user's task; another user's task is ENotFound.
func (s *Service) GetTask(ctx context.Context, userID, id string) (*lepus.Task, error) {
	t, err := s.Store.TaskGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.UserID != userID {
		return nil, lepus.Errorf(lepus.ENotFound, "task %s not found", id)
	}
	return t, nil
}

// ListTasks lists a user's tasks.
func (s *Service) ListTasks(ctx context.Context, p *lepus.TaskListParams) ([]*lepus.Task, string, error) {
	if p.Status != "" && !p.Status.Valid() {
		return nil, "", lepus.FieldErrorf("query.status", "must be one of pending, processing, completed, failed, canceled")
	}
	if p.Type != "" && s.Workflows.Get(p.Type) == nil {
		return nil, "", lepus.FieldErrorf("query.type", "unknown task type %q (known: %s)", p.Type, strings.Join(s.Workflows.Types(), ", "))
	}
	return s.Store.TaskList(ctx, p)
}

// CancelTask cancels a user's unfinished task and refunds it. A task that
// already ended is EConflict.
func (s *Service) CancelTask(ctx context.Context, userID, id string) (*lepus.Task, error) {
	if _, err := s.GetTask(ctx, userID, id); err != nil {
		return nil, err
	}
	_, err := s.Store.TaskFinish(ctx, &lepus.TaskFinishParams{
		ID: id, Status: lepus.StatusCanceled,
		Error: &lepus.TaskError{Code: "canceled", Message: "canceled by the user"},
		OnTx: func(ctx context.Context, tx *sql.Tx, t *lepus.Task) error {
			if s.CancelJob == nil || t.JobID == 0 {
				return nil
			}
			return s.CancelJob(ctx, tx, t.JobID)
		},
	})
	if errors.Is(err, lepus.ErrTaskEnded) {
		return nil, lepus.Errorf(lepus.EConflict, "task %s already ended", id)
	}
	if err != nil {
		return nil, err
	}
	s.Hub.Publish(id)
	if s.Queue != nil {
		s.Queue.Handover(ctx) // its slots and its place in line are free
	}
	return s.Store.TaskGet(ctx, id)
}

// Balance returns a user's credit balance.
func (s *Service) Balance(ctx context.Context, userID string) (int, error) {
	return s.Store.CreditBalance(ctx, userID, s.Grant)
}

// NewID returns prefix + 26 lowercase base32 characters of crypto/rand
// (130 bits): unguessable.
func NewID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
