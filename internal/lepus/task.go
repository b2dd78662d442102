// Package lepus holds the domain: tasks, assets, credits, the error kinds the
// rest of the program speaks, and the small interfaces adapters implement. It
// imports no adapter.
package lepus

import (
	"encoding/json"
	"time"
)

// TaskStatus is where a task is in its life. Terminal statuses never change.
type TaskStatus string

// The task statuses, in the order a task normally moves through them.
const (
	StatusPending    TaskStatus = "pending"
	StatusProcessing TaskStatus = "processing"
	StatusCompleted  TaskStatus = "completed"
	StatusFailed     TaskStatus = "failed"
	StatusCanceled   TaskStatus = "canceled"
)

// Terminal reports whether s is an end state.
func (s TaskStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCanceled
}

// Valid reports whether s is one of the known statuses.
func (s TaskStatus) Valid() bool {
	switch s {
	case StatusPending, StatusProcessing, StatusCompleted, StatusFailed, StatusCanceled:
		return true
	}
	return false
}

// TaskError is why a task failed, in words a person understands. Retryable
// says whether submitting the same request again may succeed.
type TaskError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

// Task is one client request and the durable state machine that carries it
// out. Stages holds the step cursor of every provider call: a retry reads it
// and resumes at the first unfinished step.
type Task struct {
	ID     string
	UserID string
	Type   string
	Status TaskStatus
	// Progress is 0–100.
	Progress int
	// Step names the step the task is at, e.g. "image.wait"; informative,
	// the authoritative cursor is in Stages.
	Step string
	// Input is the validated request as the client sent it (defaults applied).
	Input json.RawMessage
	// Stages are the provider calls of the workflow, in order.
	Stages []Stage
	Notes  []string
	Error  *TaskError
	// Cost is the number of credits debited when the task was accepted.
	Cost int
	// CallbackToken is the unguessable path segment of the provider callback URL.
	CallbackToken  string
	IdempotencyKey string
	// RequestHash identifies the request body for idempotency checks.
	RequestHash string
	// RequestID is the X-Request-Id of the request that created the task
	// (empty for tasks made before it was kept); its log lines carry it.
	RequestID string
	// JobID is the queue job that drives the task.
	JobID      int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	// Assets are the stored results; filled by reads, ignored by writes.
	Assets []Asset
	// WebhookURL, when set, receives the task's WebhookEvents (see
	// webhook.go); both are written at create only.
	WebhookURL    string
	WebhookEvents []string
	// WebhookAttempts are the delivery attempts so far, oldest first;
	// filled by reads, ignored by writes.
	WebhookAttempts []WebhookAttempt
}

// Stage phases. A stage moves submit → wait → collect → done; each move is
// persisted before the next phase starts.
const (
	PhaseSubmit  = "submit"
	PhaseWait    = "wait"
	PhaseCollect = "collect"
	PhaseDone    = "done"
	// PhaseFailed ends an Optional stage that failed; the task goes on.
	PhaseFailed = "failed"
)

// Stage is one provider call of a task and how far it got.
type Stage struct {
	// Name is unique within the task ("image", "video").
	Name  string `json:"name"`
	Phase string `json:"phase"`
	// Group, when set, runs the stage concurrently with the neighbouring
	// stages of the same group (outfit-shot variations, avatar angles).
	Group string `json:"group,omitempty"`
	// Optional stages may fail without failing the task (their Cost is
	// refunded); a group fails only if all its stages fail.
	Optional bool `json:"optional,omitempty"`
	// Cost is the stage's share of the task's credits.
	Cost int `json:"cost,omitempty"`
	// Error says why an Optional stage failed.
	Error *TaskError `json:"error,omitempty"`
	// PollInterval and MaxPolls, when set, replace the workflow's policy
	// for this stage (a provider with its own polling advice).
	PollInterval time.Duration `json:"poll_interval,omitempty"`
	MaxPolls     int           `json:"max_polls,omitempty"`
	// WaitingSince is when the stage started waiting for a free provider
	// slot; nil while it is not waiting.
	WaitingSince *time.Time `json:"waiting_since,omitempty"`
	// ReadyAt, when set, is the earliest time to fetch the results (a
	// provider that asks for spaced requests).
	ReadyAt *time.Time `json:"ready_at,omitempty"`
	// AskedAt is when Lepus last asked a provider that wants its requests
	// about one task spaced (Stability) about this stage.
	AskedAt *time.Time `json:"asked_at,omitempty"`
	// Provider and Endpoint say where the request goes, e.g. "kling",
	// "/v1/images/omni-image".
	Provider string `json:"provider"`
	Endpoint string `json:"endpoint,omitempty"`
	// Model is the provider model the stage runs; set from the request's
	// model_name unless the workflow knows better (an extended video keeps
	// its source's model).
	Model string `json:"model,omitempty"`
	// ExternalID is the id Lepus sent as external_task_id.
	ExternalID string `json:"external_id,omitempty"`
	// Request is the exact provider request body sent ("effective parameters").
	Request json.RawMessage `json:"request,omitempty"`
	// Sync marks a call the provider answers at once (no provider task to
	// wait on, e.g. Kling identify-face); its answer is kept in Output and
	// the stage is done, so a retry never repeats it.
	Sync   bool            `json:"sync,omitempty"`
	Output json.RawMessage `json:"output,omitempty"`
	// SubmitAttempts counts submit attempts that may have reached the
	// provider; above zero, a retry reconciles by ExternalID before submitting.
	SubmitAttempts int    `json:"submit_attempts,omitempty"`
	ProviderTaskID string `json:"provider_task_id,omitempty"`
	// Slot is the provider concurrency pool the stage holds while it runs.
	Slot     string `json:"slot,omitempty"`
	SlotCost int    `json:"slot_cost,omitempty"`
	Polls    int    `json:"polls,omitempty"`
	// SubmittedAt is when the provider accepted the stage, and
	// ProviderDoneAt when Lepus saw it end there: the provider's time, which
	// the soft time limit counts.
	SubmittedAt    *time.Time `json:"submitted_at,omitempty"`
	ProviderDoneAt *time.Time `json:"provider_done_at,omitempty"`
	// Retries counts the stage's failed steps retried so far: each stage
	// has its own budget (the workflow's MaxRetries).
	Retries int `json:"retries,omitempty"`
	// StorageFailingSince is when saving the stage's results to blob storage
	// started failing; nil while it works. Storage outages are retried for
	// up to the stage's time limit, not counted as retries.
	StorageFailingSince *time.Time `json:"storage_failing_since,omitempty"`
	Results             []Result   `json:"results,omitempty"`
}

// Result is one output file a provider reported.
type Result struct {
	// Kind is AssetImage or AssetVideo.
	Kind string `json:"kind"`
	URL  string `json:"url"`
	// ProviderID is the provider's id of the output (Kling video id), if any.
	ProviderID string `json:"provider_id,omitempty"`
	// DurationS is the duration the provider reported, if any.
	DurationS float64 `json:"duration_s,omitempty"`
	// AssetID is set once the result is stored.
	AssetID string `json:"asset_id,omitempty"`
}

// StageByName returns the stage called name, or nil.
func (t *Task) StageByName(name string) *Stage {
	for i := range t.Stages {
		if t.Stages[i].Name == name {
			return &t.Stages[i]
		}
	}
	return nil
}

// AddNote appends a note unless the task already has it.
func (t *Task) AddNote(note string) {
	for _, n := range t.Notes {
		if n == note {
			return
		}
	}
	t.Notes = append(t.Notes, note)
}
