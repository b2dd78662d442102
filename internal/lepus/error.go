package lepus

import (
	"errors"
	"fmt"
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
)

// Error is a domain error with a kind and a message safe to show a client.
// Field, when set, names the request field at fault (e.g. "body.face_image_url").
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("lepus: %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("lepus: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error of the given kind.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EInvalid *Error naming the field at fault.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the kind of err, EInternal for errors that are not *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrTaskEnded is returned when a write to a task is refused because the task
// already reached a terminal status (for example, it was canceled meanwhile).
var ErrTaskEnded = errors.New("lepus: task already ended")
