// Package ark is a typed client for Doubao Seedream 4.0 image generation on
// Volcengine Ark (POST /images/generations, other-providers.md §2). It sends
// the request, reads the answer either as JSON or as a server-sent-event
// stream, and collects both into one Images value, keeping every image's
// success or failure by index.
package ark

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/lepus-ai/lepus/internal/provider"
)

// DefaultBaseURL is Ark's Beijing region API base.
const DefaultBaseURL = "https://ark.cn-beijing.volces.com/api/v3"

// ModelSeedream40 is the Seedream 4.0 model id; an inference endpoint id
// ("ep-…") works in its place.
const ModelSeedream40 = "doubao-seedream-4-0-250828"

// pathGenerations is the one operation this client calls.
const pathGenerations = "/images/generations"

// Config configures a Client.
type Config struct {
	// BaseURL is the API base. Default DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a Bearer token. Required by the API; it never
	// appears in errors.
	APIKey string
	// HTTPClient sends requests. Default: a client without a timeout,
	// because a streamed answer may send its headers only after the first
	// image is done (~30 s) and a group takes minutes; bound each call with
	// the context instead.
	HTTPClient *http.Client
}

// Client calls the Ark images API. It is safe for concurrent use.
type Client struct {
	base string
	key  string
	http *http.Client
}

// NewClient returns a Client with cfg's defaults applied.
func NewClient(cfg Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Client{
		base: provider.BaseURL(cfg.BaseURL, DefaultBaseURL),
		key:  cfg.APIKey,
		http: hc,
	}
}

// ImagesRequest is the body of POST /images/generations (fields for 4.0).
type ImagesRequest struct {
	// Model is ModelSeedream40 or an "ep-…" endpoint id.
	Model  string `json:"model"`
	Prompt string `json:"prompt"`
	// Image holds reference images: public URLs or
	// "data:image/<fmt>;base64,…" URIs; at most 10.
	Image []string `json:"image,omitempty"`
	// Size is "1K", "2K", "4K" or "WxH"; the API's default is 2048x2048.
	Size string `json:"size,omitempty"`
	// SequentialImageGeneration is "auto" (the model may return a group)
	// or "disabled" (one image, the API's default).
	SequentialImageGeneration        string             `json:"sequential_image_generation,omitempty"`
	SequentialImageGenerationOptions *SequentialOptions `json:"sequential_image_generation_options,omitempty"`
	// Stream asks for server-sent events, one per image as it is done.
	Stream bool `json:"stream"`
	// ResponseFormat is "url" (the API's default; URLs expire in 24 h) or
	// "b64_json".
	ResponseFormat string `json:"response_format,omitempty"`
	// Watermark defaults to true at the API, which stamps "AI生成" on every
	// image: send false explicitly to get clean images.
	Watermark *bool `json:"watermark,omitempty"`
}

// SequentialOptions bounds a group. MaxImages is an upper bound only: the
// model may return fewer, and references + MaxImages must be ≤ 15.
type SequentialOptions struct {
	MaxImages int `json:"max_images"`
}

// Generate POSTs req to /images/generations and collects the answer.
//
// With req.Stream it reads the event stream (partial_succeeded,
// partial_failed, completed, an optional "data: [DONE]"); it also accepts a
// plain JSON answer, since validation errors come back as JSON even to a
// streamed request. No first-byte timeout applies: ctx bounds the call.
// Images.Complete is false when the stream ended without its completed
// event (the server stopped after an internal failure). When a stream
// breaks after images arrived, Generate returns them together with the
// error, so images already paid for are not lost.
//
// A top-level {"error": …} or a non-2xx status is an *APIError. Errors
// never contain the API key.
func (c *Client) Generate(ctx context.Context, req *ImagesRequest) (*Images, error) {
	if req == nil {
		return nil, errors.New("ark: generate: nil request")
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("ark: generate: encode body: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+pathGenerations, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("ark: generate: %w", err)
	}
	hreq.Header.Set("Authorization", "Bearer "+c.key)
	hreq.Header.Set("Content-Type", "application/json")
	if req.Stream {
		hreq.Header.Set("Accept", "text/event-stream, application/json")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.transport(err)
	}
	defer resp.Body.Close()
	body := bufio.NewReaderSize(resp.Body, 64<<10)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, _ := readAll(body, maxErrorBytes)
		return nil, c.redact(errorFromBody(resp.StatusCode, raw))
	}
	if isEventStream(resp.Header.Get("Content-Type"), body) {
		im, err := readStream(body, resp.StatusCode)
		return im, c.redact(err)
	}
	raw, err := readAll(body, maxResponseBytes)
	if err != nil {
		return nil, c.transport(fmt.Errorf("read response: %w", err))
	}
	im, err := decodeImages(resp.StatusCode, raw)
	return im, c.redact(err)
}

// isEventStream decides how to read a 2xx body: by Content-Type when it
// says SSE or JSON, else by sniffing for a JSON object.
func isEventStream(contentType string, body *bufio.Reader) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "text/event-stream":
		return true
	case "application/json":
		return false
	}
	for n := 1; n <= 512; n++ {
		head, _ := body.Peek(n)
		if len(head) < n {
			return false // an empty or blank body: the JSON decoder reports it
		}
		switch head[n-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return false
		}
		return true
	}
	return true
}

// transport wraps a failure to exchange the request at all.
func (c *Client) transport(err error) error {
	return c.redact(&TransportError{Err: err})
}
