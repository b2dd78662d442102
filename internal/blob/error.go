package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"gocloud.dev/gcerrors"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// unavailableMessage is what a client may read of a storage outage; the
// cause (endpoint, address) only goes to the log.
const unavailableMessage = "file storage is unavailable"

// opError wraps err from the bucket operation op on key, naming its kind:
// a missing key wraps ErrNotFound, and a storage service that cannot be
// reached becomes a lepus.EUnavailable error (503 with Retry-After, and a
// later retry for jobs) that keeps the cause for logs.
func opError(op, key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("blob: %s %s: %w", op, key, ErrNotFound)
	}
	wrapped := fmt.Errorf("blob: %s %s: %w", op, key, err)
	if unreachable(err) {
		return &lepus.Error{Code: lepus.EUnavailable, Message: unavailableMessage, Err: wrapped}
	}
	return wrapped
}

// unreachable reports whether err means the storage service did not answer
// or answered that it cannot serve now: the connection was refused, reset
// or timed out, the name did not resolve, or it (or a proxy in front of it)
// replied 500, 502, 503 or 504 even after the SDK's retries. It is only
// asked about errors of bucket calls, never about a caller's reader, so a
// network error here is the storage's.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up; nothing is known about storage
	}
	var netErr net.Error
	if errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch httpStatus(err) {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// httpStatus is the status of an S3 error response in err's chain, or 0.
// The AWS SDK's response errors have this method; matching it rather than
// the SDK's types keeps the SDK out of our imports.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// rangeRefused reports whether err is an S3 416 (InvalidRange): a read
// that started at or after the object's end.
func rangeRefused(err error) bool {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) && ae.ErrorCode() == "InvalidRange" {
		return true
	}
	return httpStatus(err) == http.StatusRequestedRangeNotSatisfiable
}
