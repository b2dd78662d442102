package stability

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/lepus-ai/lepus/internal/provider"
)

// APIError is a non-2xx reply in Stability's v2beta shape
// {"id", "name", "errors": [...]}. Name is the short reason
// ("invalid_parameters", "content_moderation", "payload_too_large",
// "rate_limit_exceeded", ...); it is empty when the body was not that JSON,
// and Errors then holds the trimmed body.
type APIError struct {
	Status int
	Name   string
	Errors []string
	ID     string
}

// Error formats status, name and messages, e.g.
// "stability: http 400 invalid_parameters: seed: must be ...". It never
// holds the key.
func (e *APIError) Error() string {
	s := fmt.Sprintf("stability: http %d", e.Status)
	if e.Name != "" {
		s += " " + e.Name
	}
	if len(e.Errors) > 0 {
		s += ": " + strings.Join(e.Errors, "; ")
	}
	if e.ID != "" {
		s += " (id " + e.ID + ")"
	}
	return s
}

// Retryable reports whether the same call may succeed later: rate limited
// (429: Stability times a client out for 60 s) or a server error (5xx).
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// NotFound reports a 404: on a result, the id is unknown to this key or the
// result expired.
func (e *APIError) NotFound() bool { return e.Status == http.StatusNotFound }

// parseAPIError builds the error for a non-2xx reply. The v1 401 shape puts
// its text in "message" instead of "errors"; both are read.
func parseAPIError(status int, raw []byte) *APIError {
	e := &APIError{Status: status}
	var body struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Errors  []string `json:"errors"`
		Message string   `json:"message"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || (body.Name == "" && len(body.Errors) == 0 && body.Message == "") {
		e.Errors = []string{provider.TrimBody(raw)}
		return e
	}
	e.ID, e.Name, e.Errors = body.ID, body.Name, body.Errors
	if body.Message != "" {
		e.Errors = append(e.Errors, body.Message)
	}
	return e
}
