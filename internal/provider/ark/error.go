package ark

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lepus-ai/lepus/internal/provider"
)

// APIError is Ark refusing or failing a whole request: a non-2xx status or
// a top-level {"error": {"code", "message"}} (which a stream may also send
// as an event, with Status 200).
type APIError struct {
	Status  int
	Code    string // e.g. "InvalidParameter", "ServerOverloaded"; "" if the body had none
	Message string
}

// Error names the status, code and message; it never holds the API key.
func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = "no code"
	}
	return fmt.Sprintf("ark: POST %s: http %d %s: %s", pathGenerations, e.Status, code, e.Message)
}

// retryableCodes are the codes worth sending again after a pause: rate
// limits and overload. QuotaExceeded and SetLimitExceeded also come with
// 429, but they mean a quota or a limit the account owner set is used up,
// which waiting a minute does not fix.
var retryableCodes = map[string]bool{
	"AccountRateLimitExceeded":              true,
	"RateLimitExceeded":                     true,
	"RateLimitExceeded.EndpointTPMExceeded": true,
	"RateLimitExceeded.EndpointRPMExceeded": true,
	"ServerOverloaded":                      true,
	"InternalServiceError":                  true,
}

// Retryable reports whether the same request may succeed later: the
// rate-limit and overload codes, and any 5xx. Note that a retried
// generation is billed again for the images it makes.
func (e *APIError) Retryable() bool {
	switch e.Code {
	case "QuotaExceeded", "SetLimitExceeded":
		return false
	}
	if retryableCodes[e.Code] || strings.HasPrefix(e.Code, "RateLimitExceeded.") {
		return true
	}
	if e.Status >= 500 {
		return true
	}
	return e.Status == http.StatusTooManyRequests && e.Code == ""
}

// TransportError is a failure to exchange a request with Ark at all
// (connection refused or reset, timeout, a truncated or unreadable body).
// Whether images were made and billed is unknown.
type TransportError struct {
	Err error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("ark: POST %s: %v", pathGenerations, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth a retry: a retryable APIError or
// a transport error (but not the caller's own cancellation).
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var tErr *TransportError
	if errors.As(err, &tErr) {
		return !errors.Is(err, context.Canceled)
	}
	return false
}

// wireError is the {"code", "message"} object of Ark's error replies.
type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	Type    string `json:"type,omitempty"`
}

// errorFromBody makes the APIError for a non-2xx reply.
func errorFromBody(status int, raw []byte) *APIError {
	var env struct {
		Error *wireError `json:"error"`
	}
	if json.Unmarshal(raw, &env) == nil && env.Error != nil {
		return &APIError{Status: status, Code: env.Error.Code, Message: env.Error.Message}
	}
	return &APIError{Status: status, Message: provider.TrimBody(raw)}
}

// redact removes the API key from err's text, should a server or proxy
// ever echo it back; the error keeps its type.
func (c *Client) redact(err error) error {
	if err == nil || c.key == "" || !strings.Contains(err.Error(), c.key) {
		return err
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		cp := *apiErr
		cp.Message = provider.Redact(cp.Message, c.key)
		if !strings.Contains(cp.Error(), c.key) {
			return &cp
		}
	}
	msg := provider.Redact(err.Error(), c.key)
	return &TransportError{Err: errors.New(strings.TrimPrefix(msg, "ark: POST "+pathGenerations+": "))}
}
