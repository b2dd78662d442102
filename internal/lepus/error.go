package lepus

import (
	"errors"
	"fmt"
	"sync"
)

// Error kinds. Adapters translate their own errors into these; the HTTP layer
// maps each to one status code.
const (
	EInvalid  = "invalid"              // bad input: 422
	ENotFound = "not_found"            // 404
	EConflict = "conflict"             // 409
	ECredits  = "insufficient_credits" // 402
	EAuth     = "unauthorized"         // 401
	EInternal = "internal"             // 500
	// EUnavailable means a dependency (the database) cannot be reached right
	// now; the same request may succeed when retried: 503 with Retry-After.
	EUnavailable = "unavailable"
	// ELimit means the caller is over a fair-use limit (its request rate or
	// its tasks in flight): 429.
	ELimit = "limit"
)

// Error is a domain error with a kind and a message safe to show a client.
// Field, when set, names the request field at fault (e.g. "body.face_image_url").
// Err, when set, is the cause kept for logs; it is never shown to a client.
type Error struct {
	Code    string
	Message string
	Field   string
	Err     error
}

// Error includes the cause, for logs; clients read Message (ErrorMessage).
func (e *Error) Error() string {
	s := fmt.Sprintf("lepus: %s: %s", e.Code, e.Message)
	if e.Field != "" {
		s = fmt.Sprintf("lepus: %s: %s: %s", e.Code, e.Field, e.Message)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause, so errors.Is/As still see the driver error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EInvalid *Error naming the field at fault.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Classifier names the kind of an error that is not an *Error, or returns ""
// when it does not recognise it.
type Classifier func(err error) string

// classifiers are consulted by ErrorCode, in registration order.
var classifiers struct {
	sync.RWMutex
	list []Classifier
}

// RegisterClassifier lets an adapter name the kind of its own driver errors
// wherever they surface. It is meant to be called from an init function,
// like database/sql.Register.
//
// Why a registry rather than translating every error in the adapter: the
// store wraps driver errors with plain fmt.Errorf at dozens of call sites,
// and a failure such as "connection refused" can surface from any of them
// (begin, commit, a query, River's insert in the same transaction). A
// classifier consulted at the edge reaches every path without touching each
// site, keeps the wrapped error for logs, and keeps the domain free of driver
// imports: only the adapter knows what its driver's errors mean.
func RegisterClassifier(c Classifier) {
	classifiers.Lock()
	defer classifiers.Unlock()
	classifiers.list = append(classifiers.list, c)
}

// ErrorCode returns the kind of err: the Code of the first *Error in its
// chain, else the kind a registered classifier names (e.g. EUnavailable for
// a refused database connection), else EInternal.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	classifiers.RLock()
	defer classifiers.RUnlock()
	for _, c := range classifiers.list {
		if code := c(err); code != "" {
			return code
		}
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if ErrorCode(err) == EUnavailable {
		return "temporarily unavailable; try again shortly"
	}
	return "internal error"
}

// ErrTaskEnded is returned when a write to a task is refused because the task
// already reached a terminal status (for example, it was canceled meanwhile).
var ErrTaskEnded = errors.New("lepus: task already ended")
