package kling

import (
	"errors"
	"fmt"
	"net/http"
)

// APIError is a reply from Kling with a non-zero code or a non-2xx status.
// Code is 0 when the body carried no Kling code (e.g. a proxy error page).
type APIError struct {
	// Method and Path name the call, e.g. "GET", "/v1/images/omni-image".
	Method     string
	Path       string
	HTTPStatus int
	Code       int
	Message    string
	RequestID  string
}

// Error formats the call, status, code, message and request_id; it never
// holds the token or keys.
func (e *APIError) Error() string {
	s := fmt.Sprintf("kling: %s %s: http %d code %d: %s", e.Method, e.Path, e.HTTPStatus, e.Code, e.Message)
	if e.RequestID != "" {
		s += " (request_id " + e.RequestID + ")"
	}
	return s
}

// transportError is a failure to exchange a request with Kling at all:
// connection refused or reset, timeout, a truncated or unreadable body. The
// request may or may not have reached Kling, so creates must be reconciled by
// external_task_id before being sent again.
type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("kling: %s %s: %v", e.method, e.path, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// Class is what a caller should do about an error.
type Class int

// The classes. They are decided on Kling's code, never on the HTTP status
// alone, because 429 also carries non-retryable account states (1100–1102).
const (
	// ClassNone is the class of a nil error.
	ClassNone Class = iota
	// ClassRetryable: try again with backoff (1302, 5000–5002, transport errors).
	ClassRetryable
	// ClassBusy: no free concurrency slot on the account (1303). Wait for a
	// slot; it is not a failure and should not use up a retry.
	ClassBusy
	// ClassAuth: the credentials are wrong even after one fresh token: a
	// configuration error.
	ClassAuth
	// ClassAccount: arrears, used-up resource pack, no permission, IP
	// whitelist. Fail the task and alert an operator.
	ClassAccount
	// ClassInvalid: the request is wrong (1200–1202, 1300, 1301). Fail the
	// task with the provider's message.
	ClassInvalid
	// ClassNotFound: the queried task does not exist (1203 or 404 on a query).
	ClassNotFound
)

var classNames = [...]string{"none", "retryable", "busy", "auth", "account", "invalid", "not_found"}

// String names the class for logs and metrics.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Classify sorts err into a Class (contract decision #13). Errors that are not
// from a Kling exchange (e.g. a body that cannot be marshalled) are
// ClassInvalid: sending them again would not help.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.class()
	}
	var tErr *transportError
	if errors.As(err, &tErr) {
		return ClassRetryable
	}
	return ClassInvalid
}

// IsRetryable reports whether the same call may succeed later: transient
// errors and busy (1303). Callers that budget retries check ClassBusy apart.
func IsRetryable(err error) bool {
	c := Classify(err)
	return c == ClassRetryable || c == ClassBusy
}

func (e *APIError) class() Class {
	switch c := e.Code; {
	case c == 1303:
		return ClassBusy
	case c == 1302, c >= 5000 && c <= 5002:
		return ClassRetryable
	case c >= 1000 && c <= 1004:
		return ClassAuth
	case c >= 1100 && c <= 1103, c == 1304:
		return ClassAccount
	case c == 1203:
		// On a query the task is missing; on a create the named resource
		// (usually the model) does not exist, which is a bad request.
		if e.Method == http.MethodGet {
			return ClassNotFound
		}
		return ClassInvalid
	case c >= 1200 && c <= 1202, c == 1300, c == 1301:
		return ClassInvalid
	}
	// No known code: fall back to the HTTP status.
	switch s := e.HTTPStatus; {
	case s == http.StatusNotFound && e.Method == http.MethodGet:
		return ClassNotFound
	case s >= 500, s == http.StatusTooManyRequests, s == http.StatusRequestTimeout:
		return ClassRetryable
	}
	return ClassInvalid
}

// isAuthCode reports whether code is one the client answers by signing a
// fresh token and trying once more.
func isAuthCode(code int) bool { return code >= 1000 && code <= 1004 }
