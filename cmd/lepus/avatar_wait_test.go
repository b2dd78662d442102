package main

import (
	"net/http"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"
)

// TestServe_AvatarPreferWaitAndWebhook: the avatar operations that start a
// task honour Prefer: wait (201 once the task ended, with
// Preference-Applied) and post that task's events to their webhook; the
// same confirmation with another webhook is a 409 naming body.webhook.
func TestServe_AvatarPreferWaitAndWebhook(t *testing.T) {
	t.Parallel()
	s, _ := startLive(t, nil, map[string]string{"LEPUS_WEBHOOK_RETRY_BASE": "10ms"})
	tok := s.token(t, "wes")
	var sec struct{ Secret string }
	s.do(t, "GET", "/webhooks/secret", tok, nil, nil, &sec)
	recv, srv := newReceiver(t, sec.Secret)
	_, p1 := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
	wait := map[string]string{"Prefer": "wait=60"}
	completed := func(taskID string) func([]delivery) bool {
		return func(got []delivery) bool {
			for _, d := range got {
				if d.taskID == taskID && d.typ == "task.completed" && d.status == "completed" && d.answered == http.StatusOK {
					return true
				}
			}
			return false
		}
	}
	check := func(what string, resp *http.Response, a avatarResp, status string) {
		t.Helper()
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Preference-Applied") != "wait=60" || a.Status != status {
			t.Fatalf("%s with Prefer: wait=60: %d (Preference-Applied %q) status %q, want 201 and %s",
				what, resp.StatusCode, resp.Header.Get("Preference-Applied"), a.Status, status)
		}
	}

	var a avatarResp
	resp := s.postJSON(t, "/v2/avatars/confirm-portraits", tok, map[string]any{"source_image_urls": []string{p1.URL}, "webhook": srv.URL}, wait, &a)
	check("confirm-portraits", resp, a, "awaiting_confirmation")
	recv.waitFor(t, "the portraits task's completion", completed(a.ConfirmTaskID))

	var confirmed avatarResp
	resp = s.postJSON(t, "/v2/avatars/"+a.ID+"/confirm", tok, map[string]any{"portrait_index": 0, "webhook": srv.URL}, wait, &confirmed)
	check("confirm", resp, confirmed, "ready")
	recv.waitFor(t, "the angles task's completion", completed(confirmed.Angles[0].TaskID))

	var prob struct{ Errors []struct{ Location string } }
	resp = s.postJSON(t, "/v2/avatars/"+a.ID+"/confirm", tok, map[string]any{"portrait_index": 0, "webhook": srv.URL + "/other"}, nil, &prob)
	if resp.StatusCode != http.StatusConflict || len(prob.Errors) != 1 || prob.Errors[0].Location != "body.webhook" {
		t.Fatalf("the same confirmation with another webhook: %d %+v, want 409 naming body.webhook", resp.StatusCode, prob)
	}

	var regen avatarResp
	resp = s.postJSON(t, "/v2/avatars/"+a.ID+"/angles/profile_right/regenerate", tok, map[string]any{"webhook": srv.URL}, wait, &regen)
	check("regenerate", resp, regen, "ready")
	var newTask string
	for _, g := range regen.Angles {
		if g.Key == "profile_right" {
			newTask = g.TaskID
		}
	}
	if newTask == "" || newTask == confirmed.Angles[0].TaskID {
		t.Fatalf("regenerate made no new task: %+v", regen.Angles)
	}
	recv.waitFor(t, "the regenerated angle's completion", completed(newTask))
}
