// Package auth signs and verifies the bearer tokens that identify users.
// Tokens have the shape Supabase issues (HS256, "sub" = user id, audience
// "authenticated"), so a Supabase project's JWT secret lets Lepus accept
// its users' tokens unchanged.
package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// audience and role are what Supabase puts in signed-in users' tokens.
// Requiring the audience keeps other tokens signed with the same secret
// (Supabase's anon and service_role keys) from passing as a user.
const (
	audience = "authenticated"
	role     = "authenticated"
)

// leeway absorbs clock skew between Lepus and whoever issued the token.
const leeway = 30 * time.Second

// minSecretLen is the HS256 key size; shorter secrets are guessable.
const minSecretLen = 32

// Error is a token that was refused. Message is safe to send to the
// client; the underlying jwt error is kept for logs via errors.Unwrap.
type Error struct {
	Message string
	err     error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.err }

// Signer signs and verifies HS256 JWTs whose "sub" is the user id. It is
// safe for concurrent use.
type Signer struct {
	secret []byte
	now    func() time.Time
	parser *jwt.Parser
}

// NewSigner returns a Signer for secret, which must be at least 32 bytes.
// now is injected so tests can check expiry without sleeping; nil means
// time.Now.
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("auth: jwt secret is %d bytes, need at least %d", len(secret), minSecretLen)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{
		secret: append([]byte(nil), secret...),
		now:    now,
		parser: jwt.NewParser(
			// Only HS256: accepting the token's own "alg" is how "none"
			// and RS256-with-the-secret-as-public-key attacks work.
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithAudience(audience),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// Sign returns a token for userID that expires after ttl, with the claims
// Supabase sets (sub, iat, exp, role, aud). Tests and the sandbox use it
// to act as a user.
func (s *Signer) Sign(userID string, ttl time.Duration) (string, error) {
	if userID == "" {
		return "", errors.New("auth: sign: empty user id")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: sign: ttl %s is not positive", ttl)
	}
	now := s.now()
	claims := jwt.MapClaims{
		"sub":  userID,
		"iat":  now.Unix(),
		"exp":  now.Add(ttl).Unix(),
		"role": role,
		// A plain string, as Supabase sends it; jwt's RegisteredClaims
		// would encode a one-element array.
		"aud": audience,
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return token, nil
}

// Verify checks token's signature, algorithm, expiry and audience and
// returns its subject. Errors are *Error with a client-safe message:
// "token expired" or "invalid token".
func (s *Signer) Verify(token string) (userID string, err error) {
	var claims jwt.RegisteredClaims
	_, err = s.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) {
		return s.secret, nil
	})
	if errors.Is(err, jwt.ErrTokenExpired) {
		return "", &Error{Message: "token expired", err: err}
	}
	if err != nil {
		return "", &Error{Message: "invalid token", err: err}
	}
	if strings.TrimSpace(claims.Subject) == "" {
		return "", &Error{Message: "invalid token", err: errors.New("token has no subject")}
	}
	return claims.Subject, nil
}

// BearerToken extracts the token from an Authorization header value
// ("Bearer x", scheme case-insensitive). It reports false for any other
// scheme or an empty token.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}
