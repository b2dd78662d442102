package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/webhook"
)

// createBody is the body of every create: the workflow's request R plus
// the fields every workflow takes (webhookFields). They are added here
// once rather than to each of the request types: the OpenAPI schema is
// R's own, named as before, with the common fields added to it, and the
// body is decoded into both.
type createBody[R any] struct {
	Request R
	Hook    webhookFields
}

// webhookFields are the webhook fields of a create.
type webhookFields struct {
	Webhook string   `json:"webhook"`
	Events  []string `json:"webhook_events_filter"`
}

func (f webhookFields) app() app.Webhook { return app.Webhook{URL: f.Webhook, Events: f.Events} }

// UnmarshalJSON decodes the body into the request and the common fields;
// each ignores the other's fields (the schema has already refused unknown
// ones).
func (b *createBody[R]) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &b.Request); err != nil {
		return err
	}
	return json.Unmarshal(data, &b.Hook)
}

// Schema is R's schema (a reference to it) with the common fields added.
func (*createBody[R]) Schema(r huma.Registry) *huma.Schema {
	ref := r.Schema(reflect.TypeFor[R](), true, "")
	if s := r.SchemaFromRef(ref.Ref); s != nil {
		addWebhookFields(s)
	}
	return ref
}

// addWebhookFields adds the webhook properties to a request schema (once).
func addWebhookFields(s *huma.Schema) {
	if s.Properties == nil || s.Properties["webhook"] != nil {
		return
	}
	maxLen, maxItems := webhook.MaxURLLength, len(lepus.WebhookEvents)
	events := make([]any, 0, len(lepus.WebhookEvents))
	for _, e := range lepus.WebhookEvents {
		events = append(events, e)
	}
	url := &huma.Schema{Type: huma.TypeString, MaxLength: &maxLen,
		Description: "An https URL to post the task's events to, signed the Standard Webhooks way (see GET /webhooks/secret). On port 443 of a public host: plain http, other ports, localhost and private addresses only where private URLs are allowed (LEPUS_ALLOW_PRIVATE_URLS)."}
	item := &huma.Schema{Type: huma.TypeString, Enum: events}
	filter := &huma.Schema{Type: huma.TypeArray, Items: item, MaxItems: &maxItems, Default: lepus.DefaultWebhookEvents,
		Description: "Which events to post: start (the provider accepted the task), output (each result recorded), completed (the task ended: completed, failed or canceled). Default [\"completed\"]; ignored without webhook."}
	for _, x := range []*huma.Schema{url, item, filter} {
		x.PrecomputeMessages()
	}
	s.Properties["webhook"], s.Properties["webhook_events_filter"] = url, filter
	s.PrecomputeMessages()
}

// WebhookDeliveryView is one delivery attempt of a task's webhook.
type WebhookDeliveryView struct {
	WebhookID  string    `json:"webhook_id" doc:"The webhook-id header: the same for every attempt of one event."`
	Event      string    `json:"event" enum:"start,output,completed"`
	Attempt    int       `json:"attempt" doc:"1 for the first delivery."`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code" doc:"The receiver's HTTP status; 0 when no answer came."`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error,omitempty" doc:"Why the attempt failed; empty on success (2xx)."`
}

// addWebhookView fills a task view's webhook fields.
func addWebhookView(v *TaskView, t *lepus.Task) {
	if t.WebhookURL == "" {
		return
	}
	v.Webhook, v.WebhookEventsFilter = t.WebhookURL, append([]string{}, t.WebhookEvents...)
	v.WebhookDeliveries = make([]WebhookDeliveryView, 0, len(t.WebhookAttempts))
	for _, a := range t.WebhookAttempts {
		v.WebhookDeliveries = append(v.WebhookDeliveries, WebhookDeliveryView{
			WebhookID: a.MessageID, Event: a.Event, Attempt: a.Attempt, At: a.At, StatusCode: a.StatusCode,
			DurationMS: float64(a.Duration.Microseconds()) / 1000, Error: a.Error,
		})
	}
}

// WebhookData renders a task for a webhook payload's data: as GET
// /tasks/{id} shows it.
func WebhookData(svc *app.Service) func(*lepus.Task) any {
	return func(t *lepus.Task) any { return taskView(svc, t) }
}

type webhookSecretOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Secret string `json:"secret" doc:"whsec_ and the base64 HMAC-SHA256 key that signs your webhook deliveries."`
	}
}

func registerWebhooks(api huma.API, h *handlers) {
	out := func(secret string) *webhookSecretOutput {
		o := &webhookSecretOutput{CacheControl: "no-store"}
		o.Body.Secret = secret
		return o
	}
	huma.Register(api, huma.Operation{
		OperationID: "get-webhook-secret", Method: http.MethodGet, Path: "/webhooks/secret",
		Summary: "Your webhook signing secret (made on first read)",
		Description: "The key that signs every delivery to the webhook of your tasks: whsec_ and a base64 key. " +
			"Each delivery carries webhook-id, webhook-timestamp and webhook-signature (v1, and the base64 HMAC-SHA256 " +
			"of \"id.timestamp.body\" under that key); check it before trusting the delivery.",
		Tags:     []string{"Webhooks"},
		Security: secured, Errors: []int{401},
	}, func(ctx context.Context, _ *struct{}) (*webhookSecretOutput, error) {
		secret, err := h.app.WebhookSecret(ctx, userID(ctx))
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return out(secret), nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "rotate-webhook-secret", Method: http.MethodPost, Path: "/webhooks/secret",
		Summary: "Rotate your webhook signing secret",
		Description: "Replaces your signing secret with a new one and returns it. Every delivery attempt from now on, " +
			"retries of earlier events included, is signed with the new secret.",
		Tags: []string{"Webhooks"}, Security: secured, Errors: []int{401},
	}, func(ctx context.Context, _ *struct{}) (*webhookSecretOutput, error) {
		secret, err := h.app.RotateWebhookSecret(ctx, userID(ctx))
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return out(secret), nil
	})
}
