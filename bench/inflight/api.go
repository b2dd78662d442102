package main

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

// apiClient talks to the child's HTTP API as one user.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(base, secret string, conns int) (*apiClient, error) {
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
	return &apiClient{base: base, token: tok, http: &http.Client{Transport: tr, Timeout: time.Minute}}, nil
}

// do sends a request and decodes a JSON reply into out, if the status is want.
func (c *apiClient) do(ctx context.Context, method, path, ctype string, body []byte, header map[string]string, want int, out any) error {
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

// uploadPortraits uploads the scene and the face once; every task uses them.
func (c *apiClient) uploadPortraits(ctx context.Context) (scene, face string, err error) {
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
		if err := c.do(ctx, http.MethodPost, "/uploads", mw.FormDataContentType(), buf.Bytes(), nil, http.StatusCreated, &up); err != nil {
			return "", "", fmt.Errorf("upload portrait: %w", err)
		}
		urls[i] = up.URL
	}
	return urls[0], urls[1], nil
}

// faceSwap submits one face swap under an idempotency key and expects 202.
func (c *apiClient) faceSwap(ctx context.Context, key, scene, face string) error {
	body, _ := json.Marshal(map[string]string{"source_image_url": scene, "face_image_url": face})
	return c.do(ctx, http.MethodPost, "/kling/face-swap", "application/json", body,
		map[string]string{"Idempotency-Key": key}, http.StatusAccepted, nil)
}

// taskView is the part of the API's task JSON the report uses.
type taskView struct {
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

// listTasks returns every task of the user in status, following the cursor.
func (c *apiClient) listTasks(ctx context.Context, status string) ([]taskView, error) {
	var all []taskView
	cursor := ""
	for {
		q := url.Values{"status": {status}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Tasks      []taskView `json:"tasks"`
			NextCursor string     `json:"next_cursor"`
		}
		if err := c.do(ctx, http.MethodGet, "/tasks?"+q.Encode(), "", nil, nil, http.StatusOK, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Tasks...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}
