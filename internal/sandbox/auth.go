package sandbox

import (
	"errors"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// authorize checks the JWT of an API call the way Kling does: HS256 signed
// with the secret key, iss = access key, nbf and exp honoured. It returns
// the 401 reply for a bad token, or nil.
func (s *Sandbox) authorize(r *http.Request) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return codeError(1001, "")
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return codeError(1002, "Authorization header must be \"Bearer <token>\"")
	}
	_, err := jwt.Parse(tok,
		func(*jwt.Token) (any, error) { return []byte(s.cfg.SecretKey), nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithIssuer(s.cfg.AccessKey),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return codeError(1002, "Authorization token issuer is not a known access key")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return codeError(1003, "")
	case errors.Is(err, jwt.ErrTokenExpired):
		return codeError(1004, "")
	default:
		return codeError(1002, "")
	}
}

// api wraps an API handler with the JWT check.
func (s *Sandbox) api(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := s.authorize(r); e != nil {
			s.writeError(w, r, e)
			return
		}
		h(w, r)
	})
}
