package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

type avatarResp struct {
	ID             string
	Status         string
	Engine         string
	EngineUsed     string `json:"engine_used"`
	FallbackReason string `json:"fallback_reason"`
	PortraitCount  int    `json:"portrait_count"`
	Portraits      []struct {
		ID, URL string
		Stored  bool
	}
	ChosenIndex    *int                 `json:"chosen_index"`
	ChosenPortrait *struct{ ID string } `json:"chosen_portrait"`
	ConfirmTaskID  string               `json:"confirm_task_id"`
	Angles         []struct {
		Key, Status string
		TaskID      string `json:"task_id"`
		Error       *struct{ Code, Message string }
		Asset       *struct{ ID string }
	}
}

func (s *lepusServer) avatar(t *testing.T, tok, id string) avatarResp {
	t.Helper()
	var a avatarResp
	if resp := s.do(t, "GET", "/v2/avatars/"+id, tok, nil, nil, &a); resp.StatusCode != 200 {
		t.Fatalf("GET avatar %s: %d", id, resp.StatusCode)
	}
	return a
}

func (s *lepusServer) waitAvatar(t *testing.T, tok, id string, cond func(avatarResp) bool) avatarResp {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		a := s.avatar(t, tok, id)
		if cond(a) {
			return a
		}
		select {
		case <-ctx.Done():
			t.Fatalf("avatar %s: condition not met; last %+v", id, a)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func angleStatus(a avatarResp) map[string]string {
	m := map[string]string{}
	for _, g := range a.Angles {
		m[g.Key] = g.Status
	}
	return m
}

// TestServe_AvatarJourney: photos → 4 portraits (Seedream) → confirm → 3
// angles → an image generation and an omni-image that use the avatar.
func TestServe_AvatarJourney(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s, _ := startLive(t, nil, map[string]string{"LEPUS_DATA_DIR": dataDir})
	tok := s.token(t, "ava")
	_, p1 := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	_, p2 := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 420, 520))

	var a avatarResp
	if resp := s.postJSON(t, "/v2/avatars/confirm-portraits", tok, map[string]any{"source_image_urls": []string{p1.URL, p2.URL}}, nil, &a); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("confirm-portraits: %d %+v", resp.StatusCode, a)
	}
	a = s.waitAvatar(t, tok, a.ID, func(a avatarResp) bool { return a.Status != "generating_portraits" })
	if a.Status != "awaiting_confirmation" || a.PortraitCount != 4 || a.EngineUsed != "doubao" || a.FallbackReason != "" {
		t.Fatalf("after portraits: %+v", a)
	}
	for i := range 4 {
		path := filepath.Join(dataDir, "blobs", "avatars", "ava", fmt.Sprintf("%s_confirm_%d.png", a.ConfirmTaskID, i))
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("portrait %d not at the spec's path: %v", i, err)
		}
	}

	var confirmed avatarResp
	if resp := s.postJSON(t, "/v2/avatars/"+a.ID+"/confirm", tok, map[string]any{"portrait_index": 1}, nil, &confirmed); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("confirm: %d %+v", resp.StatusCode, confirmed)
	}
	a = s.waitAvatar(t, tok, a.ID, func(a avatarResp) bool { return a.Status == "ready" || a.Status == "partial" })
	if a.Status != "ready" || len(a.Angles) != 3 || *a.ChosenIndex != 1 || a.ChosenPortrait == nil || a.ChosenPortrait.ID != a.Portraits[1].ID {
		t.Fatalf("after angles: %+v", a)
	}
	for _, key := range []string{"three_quarter_left", "profile_right", "slight_above"} {
		path := filepath.Join(dataDir, "blobs", "avatars", "ava", a.ID+"_angle_"+key+".png")
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("angle %s not at the spec's path: %v", key, err)
		}
	}

	gen := s.run(t, tok, "/kling/image-generation", map[string]any{"prompt": "on a beach at sunset, seen in profile", "avatar_id": a.ID})
	eff := gen.Effective["image"]
	if eff["model_name"] != "kling-v1-5" || eff["image_reference"] != "face" || eff["human_fidelity"] != nil || !hasNote(gen.Notes, "avatar portrait") {
		t.Fatalf("image generation with an avatar sent %v, notes %v", eff, gen.Notes)
	}
	omni := s.run(t, tok, "/kling/omni-image", map[string]any{"prompt": "<<<image_1>>> as a watercolour", "avatar_id": a.ID})
	if n := len(omni.Effective["image"]["image_list"].([]any)); n != 4 || !hasNote(omni.Notes, "appended") {
		t.Fatalf("omni-image with an avatar sent %d images, notes %v", n, omni.Notes)
	}

	shot := s.run(t, tok, "/enhance-style/outfit-shot", map[string]any{"garment_image_url": p2.URL, "mode": "try_on", "avatar_id": a.ID})
	if eff := shot.Effective["variation-1"]; len(eff["image_list"].([]any)) != 2 || !strings.HasPrefix(eff["prompt"].(string), "<<<image_1>>> person wearing") {
		t.Fatalf("try_on sent %v", eff)
	}

	var list struct{ Avatars []avatarResp }
	s.do(t, "GET", "/v2/avatars", tok, nil, nil, &list)
	if len(list.Avatars) != 1 || list.Avatars[0].ID != a.ID {
		t.Fatalf("list = %+v", list)
	}
	if resp := s.do(t, "DELETE", "/v2/avatars/"+a.ID, tok, nil, nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp := s.do(t, "GET", "/v2/avatars/"+a.ID, tok, nil, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted avatar: %d, want 404", resp.StatusCode)
	}
}

// TestServe_AvatarFallbackAndRegenerate: with Seedream failing the portraits
// come from Kling and the avatar says so; with one angle failing the avatar
// shows two done and one failed with its reason, and regenerating fixes it.
func TestServe_AvatarFallbackAndRegenerate(t *testing.T) {
	t.Parallel()
	s, sb := startLive(t, func(c *sandbox.Config) { c.ImageLatency = time.Second }, nil)
	tok := s.token(t, "fay")
	_, p1 := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
	sb.FailArk(1)
	var a avatarResp
	s.postJSON(t, "/v2/avatars/confirm-portraits", tok, map[string]any{"source_image_urls": []string{p1.URL}, "engine": "doubao"}, nil, &a)
	a = s.waitAvatar(t, tok, a.ID, func(a avatarResp) bool { return a.Status != "generating_portraits" })
	if a.Status != "awaiting_confirmation" || a.EngineUsed != "kling" || a.FallbackReason == "" || a.PortraitCount != 4 {
		t.Fatalf("after a Seedream failure: %+v", a)
	}
	var credits struct{ Balance int }
	s.do(t, "GET", "/credits", tok, nil, nil, &credits)
	if credits.Balance != 1000-10 {
		t.Fatalf("balance %d after Kling made the portraits, want %d (no refund: the portraits were delivered)", credits.Balance, 1000-10)
	}

	var confirmed, twice avatarResp
	s.postJSON(t, "/v2/avatars/"+a.ID+"/confirm", tok, map[string]any{"portrait_index": 0}, nil, &confirmed)
	// The same confirmation again makes no second angles task.
	s.postJSON(t, "/v2/avatars/"+a.ID+"/confirm", tok, map[string]any{"portrait_index": 0}, nil, &twice)
	if twice.Angles[0].TaskID != confirmed.Angles[0].TaskID {
		t.Fatalf("a repeated confirmation started another angles task: %s and %s", confirmed.Angles[0].TaskID, twice.Angles[0].TaskID)
	}
	sb.FailTask(confirmed.Angles[0].TaskID+"-profile_right", "face not clear enough")
	a = s.waitAvatar(t, tok, a.ID, func(a avatarResp) bool { return a.Status != "generating_angles" })
	st := angleStatus(a)
	if a.Status != "partial" || st["profile_right"] != "failed" || st["three_quarter_left"] != "done" || st["slight_above"] != "done" {
		t.Fatalf("after one failed angle: %+v", a)
	}
	for _, g := range a.Angles {
		if g.Key == "profile_right" && (g.Error == nil || !strings.Contains(g.Error.Message, "face not clear enough")) {
			t.Fatalf("the failed angle does not say why: %+v", g)
		}
	}
	if resp := s.postJSON(t, "/v2/avatars/"+a.ID+"/angles/profile_right/regenerate", tok, nil, nil, nil); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("regenerate: %d", resp.StatusCode)
	}
	a = s.waitAvatar(t, tok, a.ID, func(a avatarResp) bool { return a.Status != "generating_angles" })
	if a.Status != "ready" {
		t.Fatalf("after regenerating: %+v", a)
	}
	// Portraits 10, three angles 6 with the failed one's 2 refunded, the redone angle 2.
	s.do(t, "GET", "/credits", tok, nil, nil, &credits)
	if want := 1000 - 10 - 6 + 2 - 2; credits.Balance != want {
		t.Fatalf("balance %d, want %d", credits.Balance, want)
	}
}

func TestServe_AvatarBadInput(t *testing.T) {
	t.Parallel()
	s, _ := startLive(t, nil, nil)
	tok, other := s.token(t, "gil"), s.token(t, "hal")
	_, p := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = p.URL
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"ElevenPhotos", map[string]any{"source_image_urls": eleven}, "source_image_urls"},
		{"UnknownEngine", map[string]any{"source_image_urls": []string{p.URL}, "engine": "midjourney"}, "engine"},
	} {
		var pr problemResp
		if resp := s.postJSON(t, "/v2/avatars/confirm-portraits", tok, tc.body, nil, &pr); resp.StatusCode != 422 || !pr.mentions(tc.field) {
			t.Fatalf("%s: %d %+v", tc.name, resp.StatusCode, pr)
		}
	}
	var a, again avatarResp
	key := map[string]string{"Idempotency-Key": "avatar-1"}
	s.postJSON(t, "/v2/avatars/confirm-portraits", tok, map[string]any{"source_image_urls": []string{p.URL}}, key, &a)
	s.postJSON(t, "/v2/avatars/confirm-portraits", tok, map[string]any{"source_image_urls": []string{p.URL}}, key, &again)
	if again.ID != a.ID || again.ConfirmTaskID != a.ConfirmTaskID {
		t.Fatalf("a replayed create made another avatar: %s/%s and %s/%s", a.ID, a.ConfirmTaskID, again.ID, again.ConfirmTaskID)
	}
	a = s.waitAvatar(t, tok, a.ID, func(a avatarResp) bool { return a.Status != "generating_portraits" })
	var pr problemResp
	if resp := s.postJSON(t, "/v2/avatars/"+a.ID+"/confirm", tok, map[string]any{"portrait_index": 9}, nil, &pr); resp.StatusCode != 422 || !pr.mentions("portrait_index") {
		t.Fatalf("confirm index 9: %d %+v", resp.StatusCode, pr)
	}
	if resp := s.do(t, "GET", "/v2/avatars/"+a.ID, other, nil, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("someone else's avatar: %d, want 404", resp.StatusCode)
	}
	if resp := s.postJSON(t, "/v2/avatars/"+a.ID+"/confirm", other, map[string]any{"portrait_index": 0}, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("confirming someone else's avatar: %d, want 404", resp.StatusCode)
	}
	if resp := s.postJSON(t, "/v2/avatars/"+a.ID+"/angles/profile_right/regenerate", tok, nil, nil, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("regenerating before confirming: %d, want 409", resp.StatusCode)
	}
	if resp := s.postJSON(t, "/v2/avatars/"+a.ID+"/angles/upside_down/regenerate", tok, nil, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown angle: %d, want 404", resp.StatusCode)
	}
}

// TestServe_AvatarPortraitDownloadFails: when Lepus cannot download a
// portrait (here: result URLs on a private address, refused), the provider's
// URL is kept and the asset says it is not stored.
func TestServe_AvatarPortraitDownloadFails(t *testing.T) {
	t.Parallel()
	s, _ := startLive(t, nil, map[string]string{"LEPUS_ALLOW_PRIVATE_URLS": "false"})
	tok := s.token(t, "ida")
	_, p := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	var a avatarResp
	s.postJSON(t, "/v2/avatars/confirm-portraits", tok, map[string]any{"source_image_urls": []string{p.URL}}, nil, &a)
	a = s.waitAvatar(t, tok, a.ID, func(a avatarResp) bool { return a.Status != "generating_portraits" })
	if a.Status != "awaiting_confirmation" || a.PortraitCount != 4 {
		t.Fatalf("avatar %+v", a)
	}
	for _, p := range a.Portraits {
		if p.Stored || !strings.Contains(p.URL, "/sandbox/cdn/") {
			t.Fatalf("portrait %+v: want not stored, with the provider URL", p)
		}
	}
}
