// Package apiclient is the benchmarks' client of Lepus's HTTP API: one
// user, signed with the child's JWT secret, on keep-alive connections.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

	"github.com/lepus-ai/lepus/internal/auth"
	"github.com/lepus-ai/lepus/internal/sample"
)

// Client talks to the child's HTTP API as one user.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client of the API at base, for conns parallel callers.
func New(base, secret string, conns int) (*Client, error) {
	signer, err := auth.NewSigner([]byte(secret), time.Now)
	if err != nil {
		return nil, err
	}
	tok, err := signer.Sign("bench", 24*time.Hour)
	if err != nil {
		return nil, err
	}
	// One keep-alive connection per submitting client: no re-dials.
	tr := &http.Transport{MaxIdleConns: conns + 4, MaxIdleConnsPerHost: conns + 4, IdleConnTimeout: 90 * time.Second}
	return &Client{base: base, token: tok, http: &http.Client{Transport: tr, Timeout: time.Minute}}, nil
}

// Do sends a request and decodes a JSON reply into out, if the status is want.
func (c *Client) Do(ctx context.Context, method, path, ctype string, body []byte, header map[string]string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read reply: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode reply: %w", method, path, err)
	}
	return nil
}

// UploadPortraits uploads the scene and the face once; every task uses them.
func (c *Client) UploadPortraits(ctx context.Context) (scene, face string, err error) {
	var urls [2]string
	for i := range urls {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("file", fmt.Sprintf("portrait-%d.png", i))
		if err != nil {
			return "", "", err
		}
		_, _ = fw.Write(sample.PortraitPNG(sample.Palettes[i], 360, 450))
		_ = mw.Close()
		var up struct{ URL string }
		if err := c.Do(ctx, http.MethodPost, "/uploads", mw.FormDataContentType(), buf.Bytes(), nil, http.StatusCreated, &up); err != nil {
			return "", "", fmt.Errorf("upload portrait: %w", err)
		}
		urls[i] = up.URL
	}
	return urls[0], urls[1], nil
}

// FaceSwap submits one face swap under an idempotency key, expects 202
// and returns the new task's id.
func (c *Client) FaceSwap(ctx context.Context, key, scene, face string) (string, error) {
	body, _ := json.Marshal(map[string]string{"source_image_url": scene, "face_image_url": face})
	var t struct {
		ID string `json:"id"`
	}
	err := c.Do(ctx, http.MethodPost, "/kling/face-swap", "application/json", body,
		map[string]string{"Idempotency-Key": key}, http.StatusAccepted, &t)
	return t.ID, err
}

// ImageToVideo submits one image-to-video task under an idempotency key,
// expects 202 and returns the new task's id.
func (c *Client) ImageToVideo(ctx context.Context, key, image string) (string, error) {
	body, _ := json.Marshal(map[string]string{"image_url": image, "prompt": "the person turns and smiles"})
	var t struct {
		ID string `json:"id"`
	}
	err := c.Do(ctx, http.MethodPost, "/kling/image-to-video", "application/json", body,
		map[string]string{"Idempotency-Key": key}, http.StatusAccepted, &t)
	return t.ID, err
}

// TaskView is the part of the API's task JSON the reports use.
type TaskView struct {
	ID              string            `json:"id"`
	Status          string            `json:"status"`
	Assets          []json.RawMessage `json:"assets"`
	ProviderTaskIDs map[string]string `json:"provider_task_ids"`
	CreatedAt       time.Time         `json:"created_at"`
	StartedAt       *time.Time        `json:"started_at"`
	FinishedAt      *time.Time        `json:"finished_at"`
	Error           *struct {
		Code, Message string
	} `json:"error"`
}

// Task returns one task.
func (c *Client) Task(ctx context.Context, id string) (TaskView, error) {
	var t TaskView
	err := c.Do(ctx, http.MethodGet, "/tasks/"+url.PathEscape(id), "", nil, nil, http.StatusOK, &t)
	return t, err
}

// ListTasks returns every task of the user in status, following the cursor.
func (c *Client) ListTasks(ctx context.Context, status string) ([]TaskView, error) {
	var all []TaskView
	cursor := ""
	for {
		q := url.Values{"status": {status}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Tasks      []TaskView `json:"tasks"`
			NextCursor string     `json:"next_cursor"`
		}
		if err := c.Do(ctx, http.MethodGet, "/tasks?"+q.Encode(), "", nil, nil, http.StatusOK, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Tasks...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}
