package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// SetWebhookHook makes the store call hook in the transaction of every
// task event a task's webhook subscribes to: the save that starts a task,
// a new asset, and the finish. The queue inserts the delivery job there,
// so an event is recorded with its change or not at all. Call it once,
// while wiring, before the store is used.
func (s *Store) SetWebhookHook(hook lepus.WebhookHook) { s.webhookHook = hook }

// wantsStart reports whether saving t may be its webhook's start event.
func (s *Store) wantsStart(t *lepus.Task) bool {
	return s.webhookHook != nil && t.Status == lepus.StatusProcessing && t.Wants(lepus.WebhookStart)
}

// saveStarting saves t and, if this save moves it from pending to
// processing, emits its start event. The status is read locked, so of two
// concurrent saves only the first sees "pending": one start event.
func (s *Store) saveStarting(ctx context.Context, tx *sql.Tx, t *lepus.Task, stages, notes string, now time.Time) error {
	var before string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM task WHERE id = $1`+s.d.forUpdate(), t.ID).Scan(&before); err != nil {
		return mapErr(err, "save task", "task")
	}
	if err := saveRow(ctx, tx, s.d, t, stages, notes, now); err != nil {
		return err
	}
	if before != string(lepus.StatusPending) {
		return nil
	}
	snap := *t
	snap.UpdatedAt = now
	return s.emitWebhook(ctx, tx, lepus.WebhookStart, "", &snap, now)
}

// emitOutput emits the output event of a new asset if its task's webhook
// subscribes to it.
func (s *Store) emitOutput(ctx context.Context, tx *sql.Tx, taskID, assetID string) error {
	var url string
	var events []byte
	err := tx.QueryRowContext(ctx, `SELECT webhook_url, webhook_events FROM task WHERE id = $1`, taskID).Scan(&url, &events)
	if err != nil {
		return fmt.Errorf("read task webhook: %w", err)
	}
	probe := lepus.Task{WebhookURL: url}
	if err := unmarshalCol(events, &probe.WebhookEvents); err != nil {
		return fmt.Errorf("task %s webhook events: %w", taskID, err)
	}
	if !probe.Wants(lepus.WebhookOutput) {
		return nil
	}
	t, err := getTask(ctx, tx, "id", taskID)
	if err != nil {
		return err
	}
	return s.emitWebhook(ctx, tx, lepus.WebhookOutput, assetID, t, s.clock())
}

// emitWebhook calls the hook for an event t's webhook subscribes to.
func (s *Store) emitWebhook(ctx context.Context, tx *sql.Tx, event, key string, t *lepus.Task, at time.Time) error {
	if s.webhookHook == nil || !t.Wants(event) {
		return nil
	}
	if err := s.webhookHook(ctx, tx, &lepus.WebhookEvent{Type: event, Key: key, Task: t, At: at}); err != nil {
		return fmt.Errorf("webhook %s event: %w", event, err)
	}
	return nil
}

// webhookEventsJSON encodes a task's event filter; none is [].
func webhookEventsJSON(events []string) string {
	if len(events) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(events) // a []string always marshals
	return string(b)
}

// WebhookSecretGet returns the user's signing secret, storing fresh as
// the secret first if the user has none (so it is created on first read,
// and two first reads agree on one).
func (s *Store) WebhookSecretGet(ctx context.Context, userID, fresh string) (string, error) {
	if userID == "" || fresh == "" {
		return "", lepus.Errorf(lepus.EInvalid, "a user id and a fresh secret are required")
	}
	now := s.d.ts(s.clock())
	if _, err := s.db.ExecContext(ctx, `INSERT INTO webhook_secret (user_id, secret, created_at, updated_at)
		VALUES ($1, $2, $3, $3) ON CONFLICT (user_id) DO NOTHING`, userID, fresh, now); err != nil {
		return "", mapErr(err, "create webhook secret", "webhook secret")
	}
	var secret string
	err := s.db.QueryRowContext(ctx, `SELECT secret FROM webhook_secret WHERE user_id = $1`, userID).Scan(&secret)
	if err != nil {
		return "", mapErr(err, "get webhook secret", "webhook secret")
	}
	return secret, nil
}

// WebhookSecretSet replaces the user's signing secret (a rotation).
func (s *Store) WebhookSecretSet(ctx context.Context, userID, secret string) error {
	if userID == "" || secret == "" {
		return lepus.Errorf(lepus.EInvalid, "a user id and a secret are required")
	}
	now := s.d.ts(s.clock())
	_, err := s.db.ExecContext(ctx, `INSERT INTO webhook_secret (user_id, secret, created_at, updated_at)
		VALUES ($1, $2, $3, $3) ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at`,
		userID, secret, now)
	if err != nil {
		return mapErr(err, "set webhook secret", "webhook secret")
	}
	return nil
}

// WebhookAttemptAdd records a delivery attempt; a zero At is now.
func (s *Store) WebhookAttemptAdd(ctx context.Context, a *lepus.WebhookAttempt) error {
	if a == nil || a.TaskID == "" || a.MessageID == "" || a.Event == "" || a.Attempt < 1 {
		return lepus.Errorf(lepus.EInvalid, "a webhook attempt needs a task id, a message id, an event and an attempt number")
	}
	at := a.At
	if at.IsZero() {
		at = s.clock()
	}
	a.At = at.UTC().Truncate(time.Microsecond)
	err := s.db.QueryRowContext(ctx, `INSERT INTO webhook_attempt
			(task_id, message_id, event, attempt, at, status_code, duration_us, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		a.TaskID, a.MessageID, a.Event, a.Attempt, s.d.ts(a.At), a.StatusCode, a.Duration.Microseconds(), a.Error).Scan(&a.ID)
	if err != nil {
		return mapErr(err, "record webhook attempt", "task")
	}
	return nil
}

// attachWebhookAttempts fills the WebhookAttempts of the tasks that have a
// webhook, oldest first, with one query; tasks without one cost nothing.
func attachWebhookAttempts(ctx context.Context, q querier, tasks []*lepus.Task) error {
	var a args
	byID := map[string]*lepus.Task{}
	var marks []string
	for _, t := range tasks {
		if t.WebhookURL != "" {
			byID[t.ID] = t
			marks = append(marks, a.add(t.ID))
		}
	}
	if len(marks) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id, task_id, message_id, event, attempt, at, status_code, duration_us, error
		FROM webhook_attempt WHERE task_id IN (`+strings.Join(marks, ", ")+`) ORDER BY task_id, id`, a...)
	if err != nil {
		return fmt.Errorf("list webhook attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w lepus.WebhookAttempt
		var us int64
		if err := rows.Scan(&w.ID, &w.TaskID, &w.MessageID, &w.Event, &w.Attempt, timeCol{&w.At},
			&w.StatusCode, &us, &w.Error); err != nil {
			return fmt.Errorf("list webhook attempts: %w", err)
		}
		w.Duration = time.Duration(us) * time.Microsecond
		t := byID[w.TaskID]
		t.WebhookAttempts = append(t.WebhookAttempts, w)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list webhook attempts: %w", err)
	}
	return nil
}
