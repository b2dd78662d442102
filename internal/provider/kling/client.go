// Package kling is a typed client for the Kling AI open-platform API: it signs
// the per-request JWT, creates and queries tasks, decodes callbacks, and
// classifies errors by Kling's code (see /work/shared/spec/kling-api.md).
package kling

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/provider"
)

// DefaultBaseURL is the global (non-China) API host.
const DefaultBaseURL = "https://api-singapore.klingai.com"

// maxResponseBytes bounds a response body; a list of 500 tasks fits easily.
const maxResponseBytes = 8 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is the API host. Default DefaultBaseURL.
	BaseURL string
	// AccessKey and SecretKey sign the JWT. Required.
	AccessKey, SecretKey string
	// HTTPClient sends requests. Default: a client whose transport keeps 256
	// idle connections per host, so many concurrent polls reuse connections
	// instead of paying a TLS handshake each (performance-notes.md).
	HTTPClient *http.Client
	// Now is the clock for token times. Default time.Now.
	Now func() time.Time
	// TokenTTL is the JWT lifetime. Default 30 min.
	TokenTTL time.Duration
}

// Client calls the Kling API. It is safe for concurrent use.
type Client struct {
	base   string
	http   *http.Client
	signer *signer
}

// NewClient returns a Client with cfg's defaults applied.
func NewClient(cfg Config) *Client {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newHTTPClient()
	}
	ttl := cmp.Or(cfg.TokenTTL, 30*time.Minute)
	return &Client{
		base:   provider.BaseURL(cfg.BaseURL, DefaultBaseURL),
		http:   hc,
		signer: newSigner(cfg.AccessKey, cfg.SecretKey, ttl, now),
	}
}

func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

// Create POSTs body (any JSON-marshalable value, including json.RawMessage)
// to a create path such as PathOmniImage and returns the new task. A
// transport error leaves it unknown whether the task was created: look it up
// by external_task_id before creating again.
func (c *Client) Create(ctx context.Context, path string, body any) (*Task, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("kling: POST %s: encode body: %w", path, err)
	}
	var t Task
	if err := c.do(ctx, http.MethodPost, path, payload, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Get queries GET {path}/{id}. id may be Kling's task_id or our
// external_task_id; the docs allow either in the path.
func (c *Client) Get(ctx context.Context, path, id string) (*Task, error) {
	if id == "" {
		return nil, fmt.Errorf("kling: GET %s: empty task id", path)
	}
	var t Task
	if err := c.do(ctx, http.MethodGet, path+"/"+url.PathEscape(id), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// List queries one page of the tasks created through path, newest first.
// pageNum is in [1,1000], pageSize in [1,500]. Useful to reconcile after a
// create whose response was lost.
func (c *Client) List(ctx context.Context, path string, pageNum, pageSize int) ([]Task, error) {
	q := url.Values{}
	q.Set("pageNum", strconv.Itoa(pageNum))
	q.Set("pageSize", strconv.Itoa(pageSize))
	var ts []Task
	if err := c.do(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &ts); err != nil {
		return nil, err
	}
	return ts, nil
}

// do sends one call and decodes the envelope's data into out. On an auth
// code (1000–1004) it signs a fresh token and tries exactly once more; the
// request did not create anything, so repeating it is safe.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.signer.get()
		if err != nil {
			return err
		}
		err = c.send(ctx, method, path, tok, body, out)
		var apiErr *APIError
		if attempt == 0 && errors.As(err, &apiErr) && isAuthCode(apiErr.Code) {
			c.signer.invalidate(tok)
			continue
		}
		return err
	}
}

// envelope is the common response wrapper.
type envelope struct {
	Code      int             `json:"code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
	Data      json.RawMessage `json:"data"`
}

func (c *Client) send(ctx context.Context, method, path, token string, body []byte, out any) error {
	opPath, _, _ := strings.Cut(path, "?")
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("kling: %s %s: %w", method, opPath, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return &transportError{method: method, path: opPath, err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &transportError{method: method, path: opPath, err: fmt.Errorf("read response: %w", err)}
	}

	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok || (jsonErr == nil && env.Code != 0) {
		e := &APIError{Method: method, Path: opPath, HTTPStatus: resp.StatusCode}
		if jsonErr == nil {
			e.Code, e.Message, e.RequestID = env.Code, env.Message, env.RequestID
		} else {
			e.Message = provider.TrimBody(raw)
		}
		return e
	}
	if jsonErr != nil {
		// A 2xx that is not our JSON is a broken exchange (proxy, truncation).
		return &transportError{method: method, path: opPath, err: fmt.Errorf("http %d: decode response: %w", resp.StatusCode, jsonErr)}
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return &transportError{method: method, path: opPath, err: fmt.Errorf("http %d: response has no data (request_id %s)", resp.StatusCode, env.RequestID)}
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return &transportError{method: method, path: opPath, err: fmt.Errorf("decode data (request_id %s): %w", env.RequestID, err)}
	}
	return nil
}
