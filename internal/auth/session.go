package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SessionAudience is the audience of an admin-area browser session. Verify
// requires "authenticated", so a session is never a user's bearer token.
const SessionAudience = "lepus-admin-session"

// sessionSubject is the subject of every session: it names no user.
const sessionSubject = "admin-session"

// sessionKey is the HMAC key of sessions bound to bind (the admin token):
// derived from the secret and bind, so a session verifies neither as a user
// token (another key) nor after the admin token changes (rotation ends
// every session opened with the old one). bind itself never leaves the
// process, not even hashed.
func (s *Signer) sessionKey(bind string) []byte {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(SessionAudience + "\x00" + bind))
	return mac.Sum(nil)
}

// SignSession returns an admin-area browser session that lasts ttl and is
// bound to bind (LEPUS_ADMIN_TOKEN).
func (s *Signer) SignSession(bind string, ttl time.Duration) (string, error) {
	if bind == "" {
		return "", errors.New("auth: sign session: nothing to bind it to")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: sign session: ttl %s is not positive", ttl)
	}
	now := s.now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sessionSubject, "iat": now.Unix(), "exp": now.Add(ttl).Unix(), "aud": SessionAudience,
	}).SignedString(s.sessionKey(bind))
	if err != nil {
		return "", fmt.Errorf("auth: sign session: %w", err)
	}
	return tok, nil
}

// VerifySession checks a session from SignSession against bind, with the
// same rules as Verify (HS256 only, exp required, no crit). Errors are
// *Error: "token expired" or "invalid token" (also for a session bound to
// another admin token, or a user token).
func (s *Signer) VerifySession(token, bind string) error {
	if bind == "" {
		return &Error{Message: "invalid token", err: errors.New("no admin token to bind a session to")}
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithAudience(SessionAudience), jwt.WithLeeway(leeway), jwt.WithTimeFunc(s.now),
	)
	var c tokenClaims
	_, err := p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("token has a crit header")
		}
		return s.sessionKey(bind), nil
	})
	if errors.Is(err, jwt.ErrTokenExpired) {
		return &Error{Message: "token expired", err: err}
	}
	if err == nil && c.Subject != sessionSubject {
		err = errors.New("session has another subject")
	}
	if err != nil {
		return &Error{Message: "invalid token", err: err}
	}
	return nil
}
