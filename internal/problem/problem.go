// Package problem writes RFC 9457 problem+json answers for the few plain
// net/http handlers outside huma (the console's developer sign-in, the
// admin area), in the shape huma gives every API error, so a client reads
// one kind of error everywhere.
package problem

import (
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// Field names the part of the request at fault, as huma does:
// "body.token", "header.Sec-Fetch-Site".
func Field(location, message string) *huma.ErrorDetail {
	return &huma.ErrorDetail{Location: location, Message: message}
}

// Write answers status with a problem+json body: its title, detail and the
// fields at fault. It is never cached: answers about credentials must not
// be replayed by a proxy. Headers set before the call (WWW-Authenticate,
// Allow) are kept.
func Write(w http.ResponseWriter, status int, detail string, fields ...*huma.ErrorDetail) {
	body, err := json.Marshal(&huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields})
	if err != nil { // unreachable: strings and ints only
		body = []byte(`{"status":500,"title":"Internal Server Error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
