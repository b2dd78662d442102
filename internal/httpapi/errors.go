package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// statusOf maps each domain error kind to one HTTP status.
var statusOf = map[string]int{
	lepus.EInvalid:  http.StatusUnprocessableEntity,
	lepus.ENotFound: http.StatusNotFound,
	lepus.EConflict: http.StatusConflict,
	lepus.ECredits:  http.StatusPaymentRequired,
	lepus.EAuth:     http.StatusUnauthorized,
}

// problem converts an error into a problem+json huma error. Internal errors
// are logged and never shown to the client.
func problem(log *slog.Logger, err error) error {
	var le *lepus.Error
	if errors.As(err, &le) {
		if status, ok := statusOf[le.Code]; ok {
			if le.Field != "" {
				return huma.NewError(status, le.Message, &huma.ErrorDetail{Location: le.Field, Message: le.Message})
			}
			return huma.NewError(status, le.Message)
		}
	}
	log.Error("internal error", "error", err)
	return huma.Error500InternalServerError("internal error")
}
