package job

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/webhook"
)

// WebhookQueue carries webhook deliveries, apart from the tasks' queue: a
// slow or dead receiver holds none of the workers that run tasks, and a
// delivery never blocks or fails its task.
const WebhookQueue = "webhook"

// WebhookWorkers is how many deliveries one process makes at once.
const WebhookWorkers = 20

// WebhookArgs is one event's delivery. The payload is rendered when the
// event is recorded, so every attempt sends the same body; the signature
// (with the user's secret at that time) is made per attempt.
type WebhookArgs struct {
	TaskID string `json:"task_id"`
	UserID string `json:"user_id"`
	Event  string `json:"event"`
	// MessageID is the webhook-id; one job per message (River's unique
	// args), so an event recorded twice is delivered once per attempt.
	MessageID string          `json:"message_id" river:"unique"`
	URL       string          `json:"url"`
	Payload   json.RawMessage `json:"payload"`
}

// Kind names the delivery job.
func (WebhookArgs) Kind() string { return "webhook_delivery" }

// InsertOpts puts deliveries on their queue with enough attempts to
// cover a day of retries (webhook.MaxAttempts).
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhookQueue, MaxAttempts: webhook.MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// WebhookWorker delivers webhook events and records every attempt on the
// task.
type WebhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	Store  lepus.Store
	Sender *webhook.Sender
	// RetryBase scales the retry schedule (webhook.RetryDelay); default
	// webhook.DefaultRetryBase. Tests make it short.
	RetryBase time.Duration
	// Now is the clock NextRetry counts from. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// RegisterWebhooks adds the delivery worker. Every process that may insert
// deliveries registers it (River refuses to insert an unknown kind).
func RegisterWebhooks(workers *river.Workers, w *WebhookWorker) {
	river.AddWorker[WebhookArgs](workers, w)
}

// Work makes one delivery attempt. A failed attempt is an error, so River
// retries it on the schedule of NextRetry until MaxAttempts; an address
// the SSRF guard refuses (a host name that resolves to a private address:
// CheckURL refused the rest at create) cancels the job instead, since
// every retry would be refused the same way.
func (w *WebhookWorker) Work(ctx context.Context, j *river.Job[WebhookArgs]) error {
	a := j.Args
	secret, err := w.Store.WebhookSecretGet(ctx, a.UserID, webhook.NewSecret())
	if err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	res := w.Sender.Send(ctx, webhook.Message{URL: a.URL, ID: a.MessageID, Body: a.Payload, Secret: secret})
	att := &lepus.WebhookAttempt{TaskID: a.TaskID, MessageID: a.MessageID, Event: a.Event, Attempt: j.Attempt,
		At: res.At, StatusCode: res.StatusCode, Duration: res.Duration}
	if res.Err != nil {
		att.Error = res.Err.Error()
	}
	// The attempt is recorded even if the job's context ended meanwhile.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.Store.WebhookAttemptAdd(rctx, att); err != nil {
		w.Logger.Warn("record webhook attempt", "task_id", a.TaskID, "webhook_id", a.MessageID, "error", err)
	}
	if res.Err == nil {
		return nil
	}
	log := w.Logger.With("task_id", a.TaskID, "webhook_id", a.MessageID, "event", a.Event,
		"attempt", j.Attempt, "status_code", res.StatusCode, "error", res.Err)
	if errors.Is(res.Err, fetch.ErrForbiddenAddress) {
		log.Warn("webhook delivery gave up: the address is not allowed")
		return river.JobCancel(res.Err)
	}
	if j.Attempt >= j.MaxAttempts {
		log.Warn("webhook delivery gave up")
	} else {
		log.Info("webhook delivery failed; will retry", "retry_in", webhook.RetryDelay(w.RetryBase, j.Attempt))
	}
	return res.Err
}

// NextRetry follows the webhook schedule, from 5 s up to 10 h.
func (w *WebhookWorker) NextRetry(j *river.Job[WebhookArgs]) time.Time {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	return now().Add(webhook.RetryDelay(w.RetryBase, j.Attempt))
}

// Timeout bounds one attempt: the send's own limit plus room to record it.
func (w *WebhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration {
	return webhook.DefaultTimeout + 15*time.Second
}

// WebhookHook returns the store's webhook hook: it renders the event's
// payload — {"type": "task.<event>", "timestamp", "data": the task as the
// API shows it} — and inserts its delivery in the event's transaction.
func WebhookHook(c *Client, render func(*lepus.Task) any) lepus.WebhookHook {
	return func(ctx context.Context, tx *sql.Tx, ev *lepus.WebhookEvent) error {
		t := *ev.Task
		t.WebhookAttempts = nil // the deliveries are not part of what is delivered
		body, err := json.Marshal(webhook.Payload{Type: "task." + ev.Type, Timestamp: ev.At.UTC(), Data: render(&t)})
		if err != nil {
			return fmt.Errorf("encode webhook payload: %w", err)
		}
		_, err = c.InsertTx(ctx, tx, WebhookArgs{TaskID: t.ID, UserID: t.UserID, Event: ev.Type,
			MessageID: ev.MessageID(), URL: t.WebhookURL, Payload: body}, nil)
		if err != nil {
			return fmt.Errorf("enqueue webhook: %w", err)
		}
		return nil
	}
}
