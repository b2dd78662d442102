package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// verifyWebhook checks a delivery the way the README tells receivers to,
// written here from the Standard Webhooks specification rather than with
// Lepus's own signing code: HMAC-SHA256 under the base64 key after
// "whsec_", over "id.timestamp.body", against any "v1,<base64>" in
// webhook-signature, with the timestamp within 5 minutes.
func verifyWebhook(secret string, h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil || sigs == "" {
		return fmt.Errorf("missing or bad headers: id %q timestamp %q signature %q", id, ts, sigs)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s away", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		if v, ok := strings.CutPrefix(s, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(v); err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("no valid signature in %q", sigs)
}

// delivery is one request a webhook receiver got.
type delivery struct {
	id, typ, taskID, status string
	answered                int
}

// receiver is a webhook endpoint that verifies every delivery, answers 500
// to the very first and 200 to the rest.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []delivery
	change chan struct{} // signalled after every delivery
}

func newReceiver(t *testing.T, secret string) (*receiver, *httptest.Server) {
	r := &receiver{t: t, secret: secret, change: make(chan struct{}, 1)}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := verifyWebhook(r.secret, req.Header, body); err != nil {
		r.t.Errorf("delivery failed verification: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p struct {
		Type string
		Data struct{ ID, Status string }
	}
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("delivery body %s: %v", body, err)
	}
	r.mu.Lock()
	d := delivery{id: req.Header.Get("webhook-id"), typ: p.Type, taskID: p.Data.ID, status: p.Data.Status, answered: http.StatusOK}
	if len(r.got) == 0 {
		d.answered = http.StatusInternalServerError
	}
	r.got = append(r.got, d)
	r.mu.Unlock()
	w.WriteHeader(d.answered)
	select {
	case r.change <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds for the deliveries so far.
func (r *receiver) waitFor(t *testing.T, what string, cond func([]delivery) bool) []delivery {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		r.mu.Lock()
		got := append([]delivery(nil), r.got...)
		r.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-r.change:
		case <-timeout:
			t.Fatalf("waiting for %s; deliveries: %+v", what, got)
		}
	}
}

type webhookTaskResp struct {
	ID                  string
	Status              string
	Webhook             string
	WebhookEventsFilter []string `json:"webhook_events_filter"`
	WebhookDeliveries   []struct {
		WebhookID  string `json:"webhook_id"`
		Event      string
		Attempt    int
		StatusCode int     `json:"status_code"`
		DurationMS float64 `json:"duration_ms"`
		Error      string
		At         time.Time
	} `json:"webhook_deliveries"`
}

// TestServe_Webhook: a face swap with a webhook on every event. The
// receiver refuses the first delivery (500); it comes again with the same
// webhook-id and is accepted, every delivery is signed, and the attempts
// show on the task.
func TestServe_Webhook(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"LEPUS_WEBHOOK_RETRY_BASE": "10ms"}
			if dialect == sqlstore.DialectPostgres {
				env["LEPUS_DATABASE_URL"] = sqlstoretest.PostgresSchema(t)
			}
			s := startServe(t, env)
			tok := s.token(t, "wendy")
			var sec struct{ Secret string }
			if resp := s.do(t, "GET", "/webhooks/secret", tok, nil, nil, &sec); resp.StatusCode != 200 || !strings.HasPrefix(sec.Secret, "whsec_") {
				t.Fatalf("GET /webhooks/secret: %d %+v", resp.StatusCode, sec)
			}
			recv, srv := newReceiver(t, sec.Secret)

			body := faceSwapBody(t, s, tok)
			body["webhook"] = srv.URL + "/hook"
			body["webhook_events_filter"] = []string{"start", "output", "completed"}
			var task webhookTaskResp
			resp := s.postJSON(t, "/kling/face-swap", tok, body, nil, &task)
			if resp.StatusCode != http.StatusAccepted || task.Webhook != srv.URL+"/hook" || len(task.WebhookEventsFilter) != 3 {
				t.Fatalf("create: %d %+v", resp.StatusCode, task)
			}

			// Deliveries run side by side: output may arrive after completed.
			got := recv.waitFor(t, "start, output and completed accepted, and the retry of the first delivery", func(ds []delivery) bool {
				retried := false
				accepted := map[string]bool{}
				for i, d := range ds {
					retried = retried || (i > 0 && d.id == ds[0].id)
					if d.answered == 200 {
						accepted[d.typ] = true
					}
				}
				return retried && accepted["task.start"] && accepted["task.output"] && accepted["task.completed"]
			})
			first := got[0]
			// Usually task.start, but deliveries run side by side.
			if first.answered != 500 || first.taskID != task.ID {
				t.Fatalf("first delivery %+v, want one of %s answered 500", first, task.ID)
			}
			types := map[string]bool{}
			for _, d := range got {
				types[d.typ] = true
				if d.typ == "task.completed" && d.status != "completed" {
					t.Fatalf("completed event with task status %q", d.status)
				}
			}
			if !types["task.start"] || !types["task.output"] || !types["task.completed"] {
				t.Fatalf("event types %v, want start, output and completed", types)
			}

			// The attempts are on the task: the refused one and its retry,
			// under one webhook-id, then the others. The receiver answers
			// before the attempt is recorded, and no signal tells a test of
			// the record, so poll the task, up to a minute (a bound on a
			// hang, not a wait).
			var done webhookTaskResp
			timeout := time.After(time.Minute)
			for {
				s.do(t, "GET", "/tasks/"+task.ID, tok, nil, nil, &done)
				if len(done.WebhookDeliveries) >= len(got) {
					break
				}
				select {
				case <-timeout:
					t.Fatalf("within a minute the task shows %d deliveries, the receiver got %d: %+v",
						len(done.WebhookDeliveries), len(got), done.WebhookDeliveries)
				case <-time.After(20 * time.Millisecond):
				}
			}
			var tries []int
			for _, d := range done.WebhookDeliveries {
				if d.WebhookID == first.id {
					tries = append(tries, d.StatusCode)
					if "task."+d.Event != first.typ || d.At.IsZero() || d.DurationMS <= 0 || (d.StatusCode == 500) != (d.Error != "") {
						t.Fatalf("attempt %+v", d)
					}
				}
			}
			if len(tries) != 2 || tries[0] != 500 || tries[1] != 200 {
				t.Fatalf("attempts of %s: %v, want [500 200]; all: %+v", first.id, tries, done.WebhookDeliveries)
			}
		})
	}
}

// TestServe_WebhookBadInput: a webhook URL that is not https (where
// private URLs are not allowed) or not a URL, or an unknown event, is a
// 422 naming the field; the secret rotates.
func TestServe_WebhookBadInput(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"LEPUS_ALLOW_PRIVATE_URLS": "false"})
	tok := s.token(t, "vic")
	body := func(extra map[string]any) map[string]any {
		b := map[string]any{"prompt": "a lighthouse at dusk"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		extra map[string]any
		field string
	}{
		{map[string]any{"webhook": "http://example.com/hook"}, "body.webhook"},
		{map[string]any{"webhook": "not a url"}, "body.webhook"},
		{map[string]any{"webhook": "https://u:p@example.com/hook"}, "body.webhook"},
		// What the delivery guard would refuse on every attempt.
		{map[string]any{"webhook": "https://example.com:8443/hook"}, "body.webhook"},
		{map[string]any{"webhook": "https://10.0.0.1/hook"}, "body.webhook"},
		{map[string]any{"webhook": "https://localhost/hook"}, "body.webhook"},
		{map[string]any{"webhook": "https://example.com/" + strings.Repeat("a", 2100)}, "body.webhook"},
		{map[string]any{"webhook": "https://example.com/hook", "webhook_events_filter": []string{"finished"}}, "body.webhook_events_filter"},
		{map[string]any{"webhook_events_filter": []string{"start", "bogus"}}, "body.webhook_events_filter[1]"},
	} {
		var p problemResp
		resp := s.postJSON(t, "/kling/text-to-video", tok, body(tc.extra), nil, &p)
		if resp.StatusCode != http.StatusUnprocessableEntity || !p.mentions(tc.field) {
			t.Fatalf("%v: %d %+v, want 422 naming %s", tc.extra, resp.StatusCode, p, tc.field)
		}
	}
	var task webhookTaskResp
	resp := s.postJSON(t, "/kling/text-to-video", tok, body(map[string]any{"webhook": "https://example.com/hook"}), nil, &task)
	if resp.StatusCode != http.StatusAccepted || task.Webhook != "https://example.com/hook" ||
		len(task.WebhookEventsFilter) != 1 || task.WebhookEventsFilter[0] != "completed" {
		t.Fatalf("https webhook: %d %+v, want 202 with the default filter", resp.StatusCode, task)
	}
	var plain webhookTaskResp
	resp = s.postJSON(t, "/kling/text-to-video", tok, body(map[string]any{"webhook": "", "webhook_events_filter": []string{"completed"}}), nil, &plain)
	if resp.StatusCode != http.StatusAccepted || plain.Webhook != "" || plain.WebhookEventsFilter != nil {
		t.Fatalf("a filter without a webhook: %d %+v, want 202 and no webhook", resp.StatusCode, plain)
	}

	var a, b, c struct{ Secret string }
	s.do(t, "GET", "/webhooks/secret", tok, nil, nil, &a)
	rot := s.do(t, "POST", "/webhooks/secret", tok, nil, nil, &b)
	s.do(t, "GET", "/webhooks/secret", tok, nil, nil, &c)
	if rot.StatusCode != 200 || a.Secret == "" || b.Secret == a.Secret || c.Secret != b.Secret || rot.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotation: %d %q → %q, then %q", rot.StatusCode, a.Secret, b.Secret, c.Secret)
	}
	if resp := s.do(t, "GET", "/webhooks/secret", "", nil, nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("secret without a token: %d", resp.StatusCode)
	}
}
