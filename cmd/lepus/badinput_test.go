package main

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"
)

func TestServe_BadInput(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	tok := s.token(t, "mallory")
	_, scene := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	_, tiny := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 200, 200))
	_, wide := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 1200, 400))
	_, faceless := s.upload(t, tok, blankPNG(400, 500))

	for _, tc := range []struct {
		name    string
		body    any
		status  int
		field   string
		message string // a word the message must contain
	}{
		{"MissingField", map[string]any{"source_image_url": scene.URL}, 422, "face_image_url", ""},
		{"BadURL", map[string]any{"source_image_url": "not a url", "face_image_url": scene.URL}, 422, "body.source_image_url", "URL"},
		{"UnsupportedScheme", map[string]any{"source_image_url": "ftp://example.com/a.png", "face_image_url": scene.URL}, 422, "body.source_image_url", "http"},
		{"TinyImage", map[string]any{"source_image_url": tiny.URL, "face_image_url": scene.URL}, 422, "body.source_image_url", "300"},
		{"AspectRatio", map[string]any{"source_image_url": scene.URL, "face_image_url": wide.URL}, 422, "body.face_image_url", "aspect"},
		{"NoFace", map[string]any{"source_image_url": scene.URL, "face_image_url": faceless.URL}, 422, "body.face_image_url", "no face"},
		{"WrongType", map[string]any{"source_image_url": scene.URL, "face_image_url": scene.URL, "resolution": 5}, 422, "body.resolution", ""},
		{"BadEnum", map[string]any{"source_image_url": scene.URL, "face_image_url": scene.URL, "resolution": "4k"}, 422, "body.resolution", ""},
		{"BadDuration", map[string]any{"source_image_url": scene.URL, "face_image_url": scene.URL, "video_duration": "7"}, 422, "body.video_duration", ""},
		{"UnknownUpload", map[string]any{"source_image_url": s.url + "/uploads/upl_nope", "face_image_url": scene.URL}, 422, "body.source_image_url", "not found"},
		{"OversizedBody", map[string]any{"source_image_url": scene.URL, "face_image_url": scene.URL, "custom_prompt": strings.Repeat("x", 70_000)}, 413, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p problemResp
			resp := s.postJSON(t, "/kling/face-swap", tok, tc.body, nil, &p)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %+v", resp.StatusCode, tc.status, p)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			if tc.field != "" && !p.mentions(tc.field) {
				t.Fatalf("problem does not name %s: %+v", tc.field, p)
			}
			if tc.message != "" && !strings.Contains(strings.ToLower(problemText(p)), strings.ToLower(tc.message)) {
				t.Fatalf("problem does not say %q: %+v", tc.message, p)
			}
		})
	}

	t.Run("NotAnImage", func(t *testing.T) {
		resp, _ := s.upload(t, tok, []byte("%PDF-1.4 definitely not an image"))
		if resp.StatusCode != 422 {
			t.Fatalf("status %d, want 422", resp.StatusCode)
		}
	})
	t.Run("NoToken", func(t *testing.T) {
		var p problemResp
		resp := s.postJSON(t, "/kling/face-swap", "", map[string]any{}, nil, &p)
		if resp.StatusCode != http.StatusUnauthorized || p.Status != 401 {
			t.Fatalf("status %d %+v, want 401", resp.StatusCode, p)
		}
	})
	t.Run("BadToken", func(t *testing.T) {
		resp := s.postJSON(t, "/kling/face-swap", tok+"x", map[string]any{}, nil, nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("UnknownCallbackToken", func(t *testing.T) {
		resp := s.postJSON(t, "/callbacks/kling/nope", "", map[string]any{"task_id": "1", "task_status": "succeed"}, nil, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("BadListFilter", func(t *testing.T) {
		if resp := s.do(t, "GET", "/tasks?status=done", tok, nil, nil, nil); resp.StatusCode != 422 {
			t.Fatalf("status %d, want 422", resp.StatusCode)
		}
	})
}

func TestServe_InsufficientCredits(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"LEPUS_STARTING_CREDITS": "3"})
	tok := s.token(t, "poor")
	_, scene := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	var p problemResp
	resp := s.postJSON(t, "/kling/face-swap", tok, map[string]any{"source_image_url": scene.URL, "face_image_url": scene.URL}, nil, &p)
	if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(p.Detail, "credits") {
		t.Fatalf("status %d %+v, want 402", resp.StatusCode, p)
	}
	var list struct{ Tasks []taskResp }
	s.do(t, "GET", "/tasks", tok, nil, nil, &list)
	if len(list.Tasks) != 0 {
		t.Fatalf("a refused task was recorded: %+v", list.Tasks)
	}
}

func problemText(p problemResp) string {
	s := p.Title + " " + p.Detail
	for _, e := range p.Errors {
		s += " " + e.Location + " " + e.Message
	}
	return s
}

// blankPNG is a picture with no face in it.
func blankPNG(w, h int) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, m)
	return buf.Bytes()
}
