// Package auth signs and verifies the bearer tokens that identify users.
// Tokens have the shape Supabase issues (HS256, "sub" = user id, audience
// "authenticated"), so a Supabase project's JWT secret lets Lepus accept
// its users' tokens unchanged.
package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// audience and role are what Supabase puts in signed-in users' tokens.
// Requiring the audience keeps other tokens signed with the same secret
// (Supabase's anon and service_role keys) from passing as a user.
const (
	audience = "authenticated"
	role     = "authenticated"
)

// AdminClaim is the claim that makes a token an operator's: "lepus_role":
// "admin" opens the admin area (/admin/river). It is a claim of its own, not
// "role", because Supabase sets "role" to the Postgres role of the caller
// ("authenticated"); a Supabase project grants it with a custom access
// token hook, and users cannot set top-level claims themselves.
const (
	AdminClaim = "lepus_role"
	adminRole  = "admin"
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
			// A token issued in the future (beyond leeway) is refused,
			// as is one whose nbf has not come; both are forgeries or a
			// badly wrong clock.
			jwt.WithIssuedAt(),
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
	return s.sign(userID, ttl, false)
}

// SignAdmin is Sign for an operator: the token also carries
// "lepus_role": "admin" (lepus token --admin).
func (s *Signer) SignAdmin(userID string, ttl time.Duration) (string, error) {
	return s.sign(userID, ttl, true)
}

func (s *Signer) sign(userID string, ttl time.Duration, admin bool) (string, error) {
	if err := checkSubject(userID); err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
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
	if admin {
		claims[AdminClaim] = adminRole
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return token, nil
}

// Verify checks token's signature and algorithm (HS256 only), its times
// (exp required; exp, nbf and iat numeric and honoured within leeway), its
// audience, that it names no crit extension, and that its subject is a
// plausible user id, and returns the subject. Errors are *Error with a client-safe message:
// "token expired" or "invalid token".
func (s *Signer) Verify(token string) (userID string, err error) {
	c, err := s.verify(token)
	return c.Subject, err
}

// VerifyAdmin is Verify for the admin area: the token must also carry
// "lepus_role": "admin". A valid user token without it is refused with
// "not an admin token".
func (s *Signer) VerifyAdmin(token string) (userID string, err error) {
	c, err := s.verify(token)
	if err != nil {
		return "", err
	}
	if c.role != adminRole {
		return "", &Error{Message: "not an admin token", err: errors.New("token has no admin role claim")}
	}
	return c.Subject, nil
}

func (s *Signer) verify(token string) (c tokenClaims, err error) {
	_, err = s.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		// RFC 7515 §4.1.11: a recipient must refuse a token naming
		// extensions it does not understand in "crit"; Lepus knows none.
		// jwt/v5 ignores the header, so it is checked here.
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("token has a crit header")
		}
		return s.secret, nil
	})
	if errors.Is(err, jwt.ErrTokenExpired) {
		return tokenClaims{}, &Error{Message: "token expired", err: err}
	}
	if err != nil {
		return tokenClaims{}, &Error{Message: "invalid token", err: err}
	}
	if err := checkSubject(c.Subject); err != nil {
		return tokenClaims{}, &Error{Message: "invalid token", err: err}
	}
	return c, nil
}

// maxSubjectLen bounds the user id. Supabase's are 36-character UUIDs.
const maxSubjectLen = 255

// checkSubject refuses a user id that is blank, too long, or holds
// control characters or invalid UTF-8: it is stored and queried as text,
// and Postgres refuses NUL and invalid UTF-8.
func checkSubject(sub string) error {
	switch {
	case strings.TrimSpace(sub) == "":
		return errors.New("token has no subject")
	case len(sub) > maxSubjectLen:
		return fmt.Errorf("token subject is %d bytes; at most %d", len(sub), maxSubjectLen)
	case !utf8.ValidString(sub) || strings.ContainsRune(sub, utf8.RuneError):
		// RuneError: encoding/json turns invalid UTF-8 into U+FFFD.
		return errors.New("token subject is not valid UTF-8")
	case strings.ContainsFunc(sub, unicode.IsControl):
		return errors.New("token subject holds a control character")
	}
	return nil
}

// tokenClaims are the registered claims, decoded strictly: jwt/v5 decodes a
// NumericDate through json.Number, which also takes a quoted number, so
// {"exp":"9999999999"} would pass as a number. RFC 7519 §2 says a
// NumericDate is a JSON number; a string or null is refused here.
type tokenClaims struct {
	jwt.RegisteredClaims
	role string // AdminClaim; "" when absent
}

// UnmarshalJSON checks exp, nbf and iat are JSON numbers, then decodes the
// registered claims.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, k := range []string{"exp", "nbf", "iat"} {
		v, ok := raw[k]
		if !ok {
			continue
		}
		if v = bytes.TrimSpace(v); len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			return fmt.Errorf("claim %s is not a number", k)
		}
	}
	if v, ok := raw["sub"]; ok && !utf8.Valid(v) {
		return errors.New("claim sub is not valid UTF-8")
	}
	if v, ok := raw[AdminClaim]; ok {
		if err := json.Unmarshal(v, &c.role); err != nil {
			return fmt.Errorf("claim %s is not a string", AdminClaim)
		}
	}
	return json.Unmarshal(b, &c.RegisteredClaims)
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
