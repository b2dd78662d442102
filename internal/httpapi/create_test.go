package httpapi

import (
	"bytes"
	"encoding/json"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/app/apptest"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

// balance is the caller's balance from GET /credits.
func (a *appAPI) balance(t *testing.T) int {
	t.Helper()
	resp, body := a.do(t, request{method: http.MethodGet, path: "/credits"})
	var c struct{ Balance int }
	if err := json.Unmarshal(body, &c); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("credits %d %s", resp.StatusCode, body)
	}
	return c.Balance
}

// An Idempotency-Key makes a create safe to retry: 202 the first time, 200
// with the same task and Idempotent-Replayed after, one debit; another body
// with the key is a 409 naming the header.
func TestCreate_Idempotency(t *testing.T) {
	t.Parallel()
	a := newAppAPI(t, nil)
	create := func(prompt string) (*http.Response, []byte) {
		return a.do(t, request{method: http.MethodPost, path: "/kling/text-to-video",
			body: map[string]any{"prompt": prompt}, header: map[string]string{"Idempotency-Key": "order-1"}})
	}

	resp, body := create("a cat")
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first create: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	first := taskBody(t, body)
	if loc := resp.Header.Get("Location"); loc != "/tasks/"+first.ID {
		t.Errorf("Location %q", loc)
	}

	resp, body = create("a cat")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Idempotent-Replayed") != "true" || resp.Header.Get("Location") != "/tasks/"+first.ID {
		t.Fatalf("replay: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if again := taskBody(t, body); again.ID != first.ID {
		t.Fatalf("replay answered task %s, want %s", again.ID, first.ID)
	}
	if got, want := a.balance(t), apptest.Grant-first.Cost; got != want {
		t.Fatalf("balance %d, want %d: one debit", got, want)
	}

	resp, body = create("a dog")
	wantProblem(t, resp, body, http.StatusConflict, "header.Idempotency-Key")
	if got, want := a.balance(t), apptest.Grant-first.Cost; got != want {
		t.Fatalf("balance %d after a conflict, want %d", got, want)
	}
}

// A WebP input URL is converted to a PNG upload before the task is
// accepted; the task shows the upload's URL, and a note says why.
func TestCreate_WebPInputRewritten(t *testing.T) {
	t.Parallel()
	a := newAppAPI(t, nil)
	url := a.app.ServeFile(mediatest.SolidWebP(400, 400, color.RGBA{20, 20, 220, 255}))
	resp, body := a.do(t, request{method: http.MethodPost, path: "/kling/image-to-video", body: map[string]any{"image_url": url}})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	task := taskBody(t, body)
	got, _ := task.Input["image_url"].(string)
	id, ok := strings.CutPrefix(got, apptest.PublicURL+"/uploads/")
	if !ok || len(task.Notes) != 1 || !strings.Contains(task.Notes[0], "WebP converted to PNG") {
		t.Fatalf("input image_url %q notes %q, want an upload URL and a note", got, task.Notes)
	}
	wantPNGUpload(t, a, id, 400, 400)
}

// POST /uploads stores a WebP as PNG and says so; its public URL serves the PNG.
func TestUpload_WebPStoredAsPNG(t *testing.T) {
	t.Parallel()
	a := newAppAPI(t, nil)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "photo.webp")
	_, _ = fw.Write(mediatest.SolidWebP(320, 400, color.RGBA{200, 100, 0, 255}))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/uploads", &form)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var up UploadView
	if err := json.NewDecoder(resp.Body).Decode(&up); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %v", resp.StatusCode, err)
	}
	if up.Kind != "image" || up.Format != "png" || up.Mime != "image/png" || up.URL != apptest.PublicURL+"/uploads/"+up.ID {
		t.Fatalf("upload %+v, want a PNG image at its public URL", up)
	}
	wantPNGUpload(t, a, up.ID, 320, 400)
}

// wantPNGUpload fails t unless GET /uploads/{id}, without a token, serves
// a w x h PNG.
func wantPNGUpload(t *testing.T, a *appAPI, id string, w, h int) {
	t.Helper()
	resp, body := a.do(t, request{method: http.MethodGet, path: "/uploads/" + id, noAuth: true})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET upload %s: %d %s", id, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(body))
	if err != nil || cfg.Width != w || cfg.Height != h {
		t.Fatalf("upload content: %dx%d PNG (%v), want %dx%d", cfg.Width, cfg.Height, err, w, h)
	}
}
