package main

import (
	"bytes"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/sample"
)

func TestServe_FaceSwapEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	alice, bob := s.token(t, "alice"), s.token(t, "bob")

	var health struct{ Status, Mode string }
	if resp := s.do(t, "GET", "/healthz", "", nil, nil, &health); resp.StatusCode != 200 || health.Mode != "sandbox" || health.Status != "ok" {
		t.Fatalf("healthz: %d %+v", resp.StatusCode, health)
	}

	resp, scene := s.upload(t, alice, sample.PortraitPNG(sample.Palettes[0], 480, 600))
	if resp.StatusCode != http.StatusCreated || scene.Width != 480 || scene.Height != 600 || scene.Mime != "image/png" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, scene)
	}
	_, face := s.upload(t, alice, sample.PortraitPNG(sample.Palettes[1], 400, 500))

	body := map[string]any{"source_image_url": scene.URL, "face_image_url": face.URL, "generate_video": true}
	key := map[string]string{"Idempotency-Key": "walkthrough-1"}
	var task taskResp
	if resp := s.postJSON(t, "/kling/face-swap", alice, body, key, &task); resp.StatusCode != http.StatusAccepted || task.Status != "pending" {
		t.Fatalf("create: %d %+v", resp.StatusCode, task)
	}
	// Idempotency: same key and body → the same task; another body → 409.
	var again taskResp
	if resp := s.postJSON(t, "/kling/face-swap", alice, body, key, &again); resp.StatusCode != http.StatusOK || again.ID != task.ID {
		t.Fatalf("replay: %d %s, want 200 %s", resp.StatusCode, again.ID, task.ID)
	}
	body2 := map[string]any{"source_image_url": scene.URL, "face_image_url": face.URL}
	if resp := s.postJSON(t, "/kling/face-swap", alice, body2, key, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("same key, other body: %d, want 409", resp.StatusCode)
	}

	// Watch the events until the task ends.
	events := s.events(t, alice, task.ID)
	if last := events[len(events)-1]; !isCompleted(last) {
		t.Fatalf("last event %s %s, want status completed; all: %q", last.Name, last.Data, events)
	}
	if n := countEvents(events, "asset"); n != 2 {
		t.Fatalf("%d asset events, want 2: %q", n, events)
	}

	var done taskResp
	s.do(t, "GET", "/tasks/"+task.ID, alice, nil, nil, &done)
	if done.Status != "completed" || done.Progress != 100 || len(done.Assets) != 2 {
		t.Fatalf("task = %+v", done)
	}
	if m := done.Effective["image"]["model_name"]; m != "kling-image-o1" {
		t.Fatalf("effective image model = %v", m)
	}
	if m := done.Effective["video"]["model_name"]; m != "kling-video-o1" {
		t.Fatalf("effective video model = %v", m)
	}
	for _, a := range done.Assets {
		path := strings.TrimPrefix(a.URL, s.url)
		resp := s.do(t, "GET", path, alice, nil, nil, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != a.Mime {
			t.Fatalf("owner download %s: %d %s", a.Kind, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var content bytes.Buffer
		_, _ = content.ReadFrom(resp.Body)
		switch a.Kind {
		case "image":
			img, err := png.Decode(bytes.NewReader(content.Bytes()))
			if err != nil || img.Bounds().Dx() != a.Width {
				t.Fatalf("image asset does not decode as its metadata says: %v", err)
			}
		case "video":
			d, err := media.MP4Duration(bytes.NewReader(content.Bytes()))
			if err != nil || d != 5 || a.DurationS != 5 || a.Width == 0 || a.Height == 0 {
				t.Fatalf("video duration %v (asset says %v, %dx%d): %v", d, a.DurationS, a.Width, a.Height, err)
			}
		}
		if resp := s.do(t, "GET", path, bob, nil, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("another user's download: %d, want 404", resp.StatusCode)
		}
		if resp := s.do(t, "GET", path, "", nil, nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("anonymous download: %d, want 401", resp.StatusCode)
		}
	}
	if resp := s.do(t, "GET", "/tasks/"+task.ID, bob, nil, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another user's task: %d, want 404", resp.StatusCode)
	}

	var list struct {
		Tasks      []taskResp
		NextCursor string `json:"next_cursor"`
	}
	s.do(t, "GET", "/tasks?status=completed&type=face_swap", alice, nil, nil, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].ID != task.ID {
		t.Fatalf("list = %+v", list)
	}
	s.do(t, "GET", "/tasks", bob, nil, nil, &list)
	if len(list.Tasks) != 0 {
		t.Fatalf("bob sees alice's tasks: %+v", list)
	}
	var credits struct{ Balance int }
	s.do(t, "GET", "/credits", alice, nil, nil, &credits)
	if credits.Balance != 1000-14 {
		t.Fatalf("balance %d, want %d", credits.Balance, 1000-14)
	}

	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	s.do(t, "GET", "/openapi.json", "", nil, nil, &doc)
	if doc.OpenAPI != "3.1.0" || doc.Paths["/kling/face-swap"] == nil || doc.Paths["/tasks/{id}/events"] == nil {
		t.Fatalf("openapi %s with %d paths", doc.OpenAPI, len(doc.Paths))
	}
}

func TestServe_Cancel(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"SANDBOX_IMAGE_LATENCY": "1h"})
	tok := s.token(t, "carol")
	var task taskResp
	if resp := s.postJSON(t, "/kling/face-swap", tok, faceSwapBody(t, s, tok), nil, &task); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	var canceled taskResp
	if resp := s.postJSON(t, "/tasks/"+task.ID+"/cancel", tok, nil, nil, &canceled); resp.StatusCode != 200 || canceled.Status != "canceled" {
		t.Fatalf("cancel: %d %+v", resp.StatusCode, canceled)
	}
	if resp := s.postJSON(t, "/tasks/"+task.ID+"/cancel", tok, nil, nil, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second cancel: %d, want 409", resp.StatusCode)
	}
	var credits struct{ Balance int }
	s.do(t, "GET", "/credits", tok, nil, nil, &credits)
	if credits.Balance != 1000 {
		t.Fatalf("balance %d after cancel, want 1000", credits.Balance)
	}
}
