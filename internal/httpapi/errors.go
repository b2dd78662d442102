package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// statusOf maps each domain error kind to one HTTP status.
var statusOf = map[string]int{
	lepus.EInvalid:     http.StatusUnprocessableEntity,
	lepus.ENotFound:    http.StatusNotFound,
	lepus.EConflict:    http.StatusConflict,
	lepus.ECredits:     http.StatusPaymentRequired,
	lepus.EAuth:        http.StatusUnauthorized,
	lepus.EUnavailable: http.StatusServiceUnavailable,
	lepus.ELimit:       http.StatusTooManyRequests,
}

// retryAfterSeconds is the Retry-After sent with every 503: long enough for
// a database failover or restart to make progress, short enough that a
// client polling a task does not stall.
const retryAfterSeconds = 5

// unavailableDetail is what a client reads of an outage whose error names
// no part (a connection error the store's classifier recognised); the
// driver error (host names, addresses) only goes to the log.
const unavailableDetail = "the database is unavailable"

// statusClientClosedRequest is nginx's 499: the client went away before
// the answer. Nobody reads it; it marks the request in access logs.
const statusClientClosedRequest = 499

// problem converts an error into a problem+json huma error. Internal errors
// are logged and never shown to the client; an outage is logged at WARN
// (nothing is broken in Lepus itself) and answered 503 with Retry-After; a
// request the client gave up on (its context canceled) is logged at DEBUG.
// ctx is the request's: its lines carry the request id (logging.New).
func problem(ctx context.Context, log *slog.Logger, err error) error {
	if errors.Is(err, context.Canceled) {
		log.DebugContext(ctx, "request canceled: the client went away", "error", err)
		return huma.NewError(statusClientClosedRequest, "client closed request")
	}
	code := lepus.ErrorCode(err)
	if code == lepus.EUnavailable {
		detail := unavailableDetail
		if le := (*lepus.Error)(nil); errors.As(err, &le) && le.Message != "" {
			detail = le.Message // which part: the database, file storage
		}
		log.WarnContext(ctx, "dependency unavailable", "detail", detail, "error", err)
		return huma.ErrorWithHeaders(
			huma.NewError(http.StatusServiceUnavailable, detail+"; try again shortly"),
			http.Header{"Retry-After": {strconv.Itoa(retryAfterSeconds)}},
		)
	}
	var le *lepus.Error
	if errors.As(err, &le) {
		if status, ok := statusOf[le.Code]; ok {
			if le.Field != "" {
				return huma.NewError(status, le.Message, &huma.ErrorDetail{Location: le.Field, Message: le.Message})
			}
			return huma.NewError(status, le.Message)
		}
	}
	log.ErrorContext(ctx, "internal error", "error", err)
	return huma.Error500InternalServerError("internal error")
}
