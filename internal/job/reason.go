package job

import (
	"errors"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/provider/ark"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/provider/stability"
)

// publicReason is what a client may read about an error: a provider's own
// answer or a download failure, which say what went wrong; anything else
// (the database, storage) is logged and summarised.
func publicReason(err error) string {
	var kErr *kling.APIError
	var sErr *stability.APIError
	var aErr *ark.APIError
	var status *fetch.StatusError
	switch {
	case errors.As(err, &kErr), errors.As(err, &sErr), errors.As(err, &aErr), errors.As(err, &status):
		return err.Error()
	case kling.Classify(err) == kling.ClassRetryable:
		return "the provider could not be reached"
	}
	return "an internal error (logged)"
}
