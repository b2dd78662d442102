// Package cli is Lepus's command-line client: a typed HTTP client for the
// public API and the commands built on it (submit, tasks, task, cancel,
// credits). It calls only the public API, as any other client would.
package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// BaseURL is the server, e.g. http://127.0.0.1:8080. Required.
	BaseURL string
	// Token is the bearer token. It is sent only to BaseURL.
	Token string
	// HTTP is the client to use. Default: one with a 2-minute bound on
	// response headers and none on bodies (event streams, downloads).
	HTTP *http.Client
	// Retries is how many more times a request that is safe to repeat (a
	// GET, a create with its idempotency key) is sent after a network error
	// or a 429/502/503/504. Default 2; negative: none.
	Retries int
	// Backoff is the first wait before a retry; it doubles each time, and a
	// longer Retry-After (up to maxRetryWait) wins. Default 500 ms.
	Backoff time.Duration
}

// maxRetryWait caps one wait between retries, whatever Retry-After says.
const maxRetryWait = 10 * time.Second

// Client is a typed client of Lepus's public HTTP API.
type Client struct {
	base    *url.URL
	token   string
	http    *http.Client
	retries int
	backoff time.Duration
}

// NewClient returns a client for cfg.BaseURL.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErrorf("server %q is not an http(s) URL", cfg.BaseURL)
	}
	hc := cfg.HTTP
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = 2 * time.Minute
		hc = &http.Client{Transport: tr}
	}
	retries := cmp.Or(cfg.Retries, 2)
	if retries < 0 {
		retries = 0
	}
	return &Client{base: u, token: cfg.Token, http: hc, retries: retries, backoff: cmp.Or(cfg.Backoff, 500*time.Millisecond)}, nil
}

// request is one API call.
type request struct {
	method, path string
	header       http.Header
	// body returns a fresh body for each attempt; nil: none.
	body func() (io.Reader, error)
	// retry: the request is safe to send again.
	retry bool
}

// do sends r and returns a response with a 2xx or 3xx status (its body
// still open), a *Problem for an error status, or an *ExitError
// (ExitServer) when the server cannot be reached.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, r)
		wait := c.backoff << attempt
		if err == nil {
			if resp.StatusCode < 400 {
				return resp, nil
			}
			prob := readProblem(resp)
			if !r.retry || attempt >= c.retries || !retryableStatus(resp.StatusCode) {
				return nil, prob
			}
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && time.Duration(s)*time.Second > wait {
				wait = time.Duration(s) * time.Second
			}
		} else {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ee *ExitError
			if errors.As(err, &ee) || !r.retry || attempt >= c.retries {
				return nil, err
			}
		}
		t := time.NewTimer(min(wait, maxRetryWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// send makes one attempt of r.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	var body io.Reader
	if r.body != nil {
		b, err := r.body()
		if err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base.String()+r.path, body)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// net/http's error names the method and URL, never the headers.
		return nil, &networkError{err: err}
	}
	return resp, nil
}

// networkError is a request that got no answer; ExitServer.
type networkError struct{ err error }

func (e *networkError) Error() string { return "cannot reach the server: " + e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }
func (e *networkError) ExitCode() int { return ExitServer }

func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// readProblem reads an error response: a problem+json, or anything else
// (a proxy's page) shortened into one.
func readProblem(resp *http.Response) *Problem {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var p Problem
	if json.Unmarshal(data, &p) == nil && (p.Title != "" || p.Detail != "") {
		p.Status = resp.StatusCode
		return &p
	}
	detail := strings.Join(strings.Fields(string(data)), " ")
	if len(detail) > 200 {
		detail = detail[:200] + "…"
	}
	return &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: detail}
}

// getJSON GETs path and decodes the answer into out; it returns the raw
// body too, for --json output.
func (c *Client) getJSON(ctx context.Context, path string, out any) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, retry: true})
	if err != nil {
		return nil, err
	}
	return decodeBody(resp, out)
}

func decodeBody(resp *http.Response, out any) ([]byte, error) {
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &networkError{err: err}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, &ExitError{Code: ExitServer, Err: fmt.Errorf("unexpected answer from the server: %w", err)}
	}
	return data, nil
}

// Upload sends a local file to POST /uploads; the returned URL is what a
// workflow request names. Uploads are not retried: a file can be large, and
// the caller can simply run again.
func (c *Client) Upload(ctx context.Context, path string) (*Upload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("file", filepath.Base(path))
		if err == nil {
			_, err = io.Copy(part, f)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	resp, err := c.do(ctx, request{
		method: http.MethodPost, path: "/uploads",
		header: http.Header{"Content-Type": {mw.FormDataContentType()}},
		body:   func() (io.Reader, error) { return pr, nil },
	})
	pr.Close() // ends the writer goroutine if the request stopped reading
	if err != nil {
		return nil, err
	}
	var up Upload
	if _, err := decodeBody(resp, &up); err != nil {
		return nil, err
	}
	return &up, nil
}

// Create posts a workflow request to path (e.g. /kling/face-swap) with an
// idempotency key, so a retry after a lost answer returns the same task.
// replayed is true when the key had already made the task.
func (c *Client) Create(ctx context.Context, path string, body []byte, key string) (t *Task, replayed bool, err error) {
	resp, err := c.do(ctx, request{
		method: http.MethodPost, path: path, retry: true,
		header: http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {key}},
		body:   func() (io.Reader, error) { return bytes.NewReader(body), nil },
	})
	if err != nil {
		return nil, false, err
	}
	t = &Task{}
	if _, err := decodeBody(resp, t); err != nil {
		return nil, false, err
	}
	return t, resp.Header.Get("Idempotent-Replayed") == "true", nil
}

// Task gets a task, and its JSON as the server sent it.
func (c *Client) Task(ctx context.Context, id string) (*Task, []byte, error) {
	var t Task
	raw, err := c.getJSON(ctx, "/tasks/"+url.PathEscape(id), &t)
	if err != nil {
		return nil, nil, err
	}
	return &t, raw, nil
}

// Tasks lists the caller's tasks, newest first; q holds status, type,
// cursor and limit.
func (c *Client) Tasks(ctx context.Context, q url.Values) (*TaskList, []byte, error) {
	var l TaskList
	path := "/tasks"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	raw, err := c.getJSON(ctx, path, &l)
	if err != nil {
		return nil, nil, err
	}
	return &l, raw, nil
}

// Cancel cancels a task that has not ended.
func (c *Client) Cancel(ctx context.Context, id string) (*Task, []byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/tasks/" + url.PathEscape(id) + "/cancel"})
	if err != nil {
		return nil, nil, err
	}
	var t Task
	raw, err := decodeBody(resp, &t)
	if err != nil {
		return nil, nil, err
	}
	return &t, raw, nil
}

// Credits returns the caller's balance, and the JSON as sent.
func (c *Client) Credits(ctx context.Context) (int, []byte, error) {
	var out struct {
		Balance int `json:"balance"`
	}
	raw, err := c.getJSON(ctx, "/credits", &out)
	if err != nil {
		return 0, nil, err
	}
	return out.Balance, raw, nil
}

// Download writes an asset's content to w. A stored asset is read from
// this server's /assets/{id}/content with the token; an asset Lepus could
// not store is fetched from the provider's URL without it, so the token
// never leaves the server it belongs to.
func (c *Client) Download(ctx context.Context, a Asset, w io.Writer) error {
	var resp *http.Response
	var err error
	if a.Stored {
		resp, err = c.do(ctx, request{method: http.MethodGet, path: "/assets/" + url.PathEscape(a.ID) + "/content", retry: true})
	} else {
		resp, err = c.fetchForeign(ctx, a.URL)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return &networkError{err: err}
	}
	return nil
}

// fetchForeign GETs a URL outside the server, with no credentials.
func (c *Client) fetchForeign(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &ExitError{Code: ExitServer, Err: fmt.Errorf("asset URL %q: %w", rawURL, err)}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &networkError{err: err}
	}
	if resp.StatusCode >= 400 {
		return nil, readProblem(resp)
	}
	return resp, nil
}
