// Package stability is a typed client for Stability AI's asynchronous
// replace-background-and-relight edit (other-providers.md §1): it uploads
// the subject as multipart form data, polls the result and classifies
// errors. Contract decision #10 sets how Lepus uses it: poll no faster than
// every 10 s and fail a CONTENT_FILTERED result.
package stability

import (
	"bytes"
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

// DefaultBaseURL is Stability's API host.
const DefaultBaseURL = "https://api.stability.ai"

// API paths.
const (
	PathRelight = "/v2beta/stable-image/edit/replace-background-and-relight"
	PathResults = "/v2beta/results"
)

// Finish reasons of a finished result (the finish-reason header).
const (
	FinishSuccess         = "SUCCESS"
	FinishContentFiltered = "CONTENT_FILTERED"
)

// maxJSONBytes bounds a JSON reply (start and error bodies are tiny).
const maxJSONBytes = 1 << 20

// ErrInProgress is what Result returns while the generation runs (HTTP 202):
// poll again, no sooner than 10 s later.
var ErrInProgress = errors.New("stability: result in progress")

// Config configures a Client.
type Config struct {
	// BaseURL is the API host. Default DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a Bearer token. Required; it never appears in
	// errors or logs.
	APIKey string
	// HTTPClient sends requests. Default: a client with a 120 s timeout,
	// long enough to upload a 10 MiB subject on a slow link.
	HTTPClient *http.Client
}

// Client calls the Stability API. It is safe for concurrent use.
type Client struct {
	base string
	key  string
	http *http.Client
}

// NewClient returns a Client with cfg's defaults applied.
func NewClient(cfg Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 120 * time.Second}
	}
	return &Client{
		base: provider.BaseURL(cfg.BaseURL, DefaultBaseURL),
		key:  cfg.APIKey,
		http: hc,
	}
}

// Start uploads req and returns the generation id to poll with Result. Any
// 2xx carrying an id counts as started (Stability's async endpoints answer
// 200 or 202). A transport error leaves it unknown whether a (paid)
// generation started; Stability has no idempotency key, so callers decide.
func (c *Client) Start(ctx context.Context, req *RelightRequest) (string, error) {
	if req == nil {
		return "", errors.New("stability: start relight: nil request")
	}
	body, contentType, err := req.encode()
	if err != nil {
		return "", fmt.Errorf("stability: start relight: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+PathRelight, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("stability: start relight: %w", err)
	}
	hr.Header.Set("Content-Type", contentType)
	hr.Header.Set("Accept", "application/json")
	resp, err := c.do(hr)
	if err != nil {
		return "", fmt.Errorf("stability: start relight: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBytes))
	if err != nil {
		return "", fmt.Errorf("stability: start relight: read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", parseAPIError(resp.StatusCode, raw)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("stability: start relight: http %d without a generation id: %s", resp.StatusCode, provider.TrimBody(raw))
	}
	return out.ID, nil
}

// Result is a finished generation. Body streams the image; the caller must
// close it.
type Result struct {
	ID          string
	Body        io.ReadCloser
	ContentType string // e.g. "image/png"
	// FinishReason is the finish-reason header: FinishSuccess or
	// FinishContentFiltered ("" if absent). A filtered image has been
	// blurred by moderation and must not be delivered.
	FinishReason string
	// Seed is the seed used, or 0 when the header is missing.
	Seed int64
}

// Filtered reports whether moderation blurred the image.
func (r *Result) Filtered() bool { return r.FinishReason == FinishContentFiltered }

// Result polls GET /v2beta/results/{id} for raw bytes. It returns
// ErrInProgress while the job runs (202), the Result when done (200), and
// an *APIError otherwise; NotFound() means the id is unknown to this key or
// the result expired (results are kept 24 h).
func (c *Client) Result(ctx context.Context, id string) (*Result, error) {
	if id == "" {
		return nil, errors.New("stability: get result: empty id")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PathResults+"/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, fmt.Errorf("stability: get result: %w", err)
	}
	hr.Header.Set("Accept", "*/*")
	resp, err := c.do(hr)
	if err != nil {
		return nil, fmt.Errorf("stability: get result: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusAccepted:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSONBytes))
		resp.Body.Close()
		return nil, ErrInProgress
	case resp.StatusCode == http.StatusOK:
		res := &Result{
			ID:           id,
			Body:         resp.Body,
			ContentType:  resp.Header.Get("Content-Type"),
			FinishReason: resp.Header.Get("Finish-Reason"),
		}
		res.Seed, _ = strconv.ParseInt(resp.Header.Get("Seed"), 10, 64)
		return res, nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBytes))
	if err != nil {
		return nil, fmt.Errorf("stability: get result: http %d: read response: %w", resp.StatusCode, err)
	}
	return nil, parseAPIError(resp.StatusCode, raw)
}

// do adds the key and sends hr. Transport errors name the method and URL
// (which never holds the key), not the headers.
func (c *Client) do(hr *http.Request) (*http.Response, error) {
	hr.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, scrub(err, c.key)
	}
	return resp, nil
}

// scrub guards against a key leaking through an error's text (it would
// only get there through a misconfigured base URL holding it).
func scrub(err error, key string) error {
	if key == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	return errors.New(provider.Redact(err.Error(), key))
}
