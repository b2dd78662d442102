package httpapi

import (
	"net/http"

	"github.com/rs/cors"
)

// CORS lets browser apps on origins call the API: "*" allows any origin,
// no origins turns CORS off (browsers then refuse cross-origin calls). A
// preflight (OPTIONS with Access-Control-Request-Method) is answered 204
// here for every route, before routing and authentication, which would
// answer it 405 or 401.
//
// It is github.com/rs/cors rather than our own code: origin matching
// (wildcards, case), Vary and the preflight rules are easy to get subtly
// wrong, and rs/cors is small, dependency-free and widely used. It echoes
// the requested method and headers in a preflight answer when all are
// allowed, as the Fetch standard permits.
//
// Credentials (cookies) are not allowed: tokens travel in the
// Authorization header, so "*" lets no site act as a signed-in user.
func CORS(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		// rs/cors would read an empty list as "*".
		return func(next http.Handler) http.Handler { return next }
	}
	c := cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "Prefer", "X-Request-Id",
			"Last-Event-ID", "Cache-Control", "Range", "If-None-Match", "If-Modified-Since"},
		ExposedHeaders: []string{"Location", "Idempotent-Replayed", "Retry-After", "Content-Disposition", "Content-Range", "X-Request-Id"},
		MaxAge:         600, // seconds; Chrome caps it at 2 hours, Firefox at 24
	})
	return func(next http.Handler) http.Handler {
		return secureHeaders(c.Handler(next))
	}
}
