// Package llm is a small client for OpenAI-compatible chat completion APIs
// (Doubao on Volcengine Ark, Gemini's OpenAI endpoint, OpenAI itself), used
// to rewrite prompts.
package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API base, e.g. "https://ark.cn-beijing.volces.com/api/v3"
	// or "https://generativelanguage.googleapis.com/v1beta/openai/". Required.
	BaseURL string
	// APIKey is sent as a bearer token. Required.
	APIKey string
	// Model is the model (or Ark endpoint) id. Required.
	Model string
	// HTTPClient sends requests. Default: a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one completion. Default 60 s.
	Timeout time.Duration
}

// Client asks an OpenAI-compatible chat completion endpoint. It reads no
// environment variables (the SDK's own defaults, such as OPENAI_ORG_ID,
// are not applied), so no stray header reaches another provider.
type Client struct {
	chat  openai.ChatCompletionService
	model string
}

// NewClient returns a Client; it fails if a required field is missing.
func NewClient(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" || cfg.APIKey == "" || cfg.Model == "" {
		return nil, errors.New("llm: base URL, API key and model are all required")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cmp.Or(cfg.Timeout, 60*time.Second)}
	}
	chat := openai.NewChatCompletionService(
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIKey(cfg.APIKey),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(1),
		option.WithRequestTimeout(cmp.Or(cfg.Timeout, 60*time.Second)),
	)
	return &Client{chat: chat, model: cfg.Model}, nil
}

// Complete sends a system and a user message and returns the answer's text.
// API errors carry only the status code: the SDK's own error text can
// include the request headers, and so the key.
func (c *Client) Complete(ctx context.Context, system, user string) (string, error) {
	res, err := c.chat.New(ctx, openai.ChatCompletionNewParams{
		Model:    c.model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), openai.UserMessage(user)},
	})
	if err != nil {
		var apiErr *openai.Error
		if errors.As(err, &apiErr) {
			return "", fmt.Errorf("llm: http %d", apiErr.StatusCode)
		}
		// Transport and decoding errors name the URL but no header.
		return "", fmt.Errorf("llm: %w", err)
	}
	if len(res.Choices) == 0 {
		return "", errors.New("llm: answer has no choices")
	}
	text := strings.TrimSpace(res.Choices[0].Message.Content)
	if text == "" {
		return "", errors.New("llm: empty answer")
	}
	return text, nil
}
