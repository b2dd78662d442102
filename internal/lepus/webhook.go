package lepus

import (
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
	"time"
)

// The task events a webhook can subscribe to (webhook_events_filter).
const (
	// WebhookStart: the provider accepted the task's first stage (the task
	// is processing).
	WebhookStart = "start"
	// WebhookOutput: a result was recorded (one event per asset).
	WebhookOutput = "output"
	// WebhookCompleted: the task ended — completed, failed or canceled.
	WebhookCompleted = "completed"
)

// WebhookEvents lists every event, in the order a task emits them.
var WebhookEvents = []string{WebhookStart, WebhookOutput, WebhookCompleted}

// DefaultWebhookEvents is the filter of a webhook given without one.
var DefaultWebhookEvents = []string{WebhookCompleted}

// Wants reports whether a task's webhook subscribes to event.
func (t *Task) Wants(event string) bool {
	return t.WebhookURL != "" && slices.Contains(t.WebhookEvents, event)
}

// WebhookEvent is one event of a task with a webhook, handed to the
// store's webhook hook inside the transaction that records it, so the
// delivery job commits with the change or not at all.
type WebhookEvent struct {
	// Type is WebhookStart, WebhookOutput or WebhookCompleted.
	Type string
	// Key tells apart events of one type (the asset id of an output).
	Key string
	// Task is the task as of the event.
	Task *Task
	// At is when the event happened.
	At time.Time
}

// MessageID is the event's webhook-id: the same for every attempt and every
// re-recording of the same event, so receivers can drop duplicates
// (deliveries are at least once).
func (e *WebhookEvent) MessageID() string {
	sum := sha256.Sum256([]byte(e.Task.ID + "\x00" + e.Type + "\x00" + e.Key))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// WebhookAttempt is one delivery attempt of a webhook event.
type WebhookAttempt struct {
	ID     int64
	TaskID string
	// MessageID is the webhook-id sent.
	MessageID string
	Event     string
	// Attempt counts from 1.
	Attempt int
	At      time.Time
	// StatusCode is the receiver's HTTP status; 0 when none came.
	StatusCode int
	Duration   time.Duration
	// Error says why the attempt failed, in words safe to show the user;
	// empty on success.
	Error string
}
