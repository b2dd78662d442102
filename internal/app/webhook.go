package app

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/webhook"
)

// Webhook is the webhook of a create request: where to post the task's
// events, and which (default: completed only).
type Webhook struct {
	URL    string
	Events []string
}

// checkWebhook validates a create's webhook and applies the default filter.
// Plain http, other ports and private addresses are accepted only where
// private URLs are (the sandbox, tests; webhook.CheckURL); a host name's
// address is checked when delivering, by the SSRF-safe client.
func (s *Service) checkWebhook(w *Webhook) error {
	if w.URL == "" {
		// A filter alone is ignored, as forms that send every field's
		// default do: there is nothing to post to.
		w.Events = nil
		return nil
	}
	if why := webhook.CheckURL(w.URL, s.Fetch != nil && s.Fetch.AllowPrivate()); why != "" {
		return lepus.FieldErrorf("body.webhook", "%s", why)
	}
	if len(w.Events) == 0 {
		w.Events = slices.Clone(lepus.DefaultWebhookEvents)
	}
	var events []string
	for i, e := range w.Events {
		if !slices.Contains(lepus.WebhookEvents, e) {
			return lepus.FieldErrorf("body.webhook_events_filter["+strconv.Itoa(i)+"]", "must be one of %s", strings.Join(lepus.WebhookEvents, ", "))
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	w.Events = events
	return nil
}

// webhookHashPart is what a webhook adds to a create's idempotency hash;
// nothing without one, so such requests hash as before webhooks existed.
func webhookHashPart(w Webhook) string {
	if w.URL == "" {
		return ""
	}
	return "\nwebhook " + w.URL + " " + strings.Join(w.Events, ",")
}

// WebhookSecret returns the user's webhook signing secret, creating it on
// first read.
func (s *Service) WebhookSecret(ctx context.Context, userID string) (string, error) {
	return s.Store.WebhookSecretGet(ctx, userID, webhook.NewSecret())
}

// RotateWebhookSecret replaces the user's signing secret and returns the
// new one; deliveries from now on are signed with it (retries included).
func (s *Service) RotateWebhookSecret(ctx context.Context, userID string) (string, error) {
	secret := webhook.NewSecret()
	if err := s.Store.WebhookSecretSet(ctx, userID, secret); err != nil {
		return "", err
	}
	s.Logger.InfoContext(ctx, "webhook secret rotated", "user_id", userID)
	return secret, nil
}
