package kling

import (
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// nbfSkew backdates nbf so a server clock slightly behind ours still accepts
// a fresh token (the official example uses 5 s).
const nbfSkew = 5 * time.Second

// signer makes and caches the HS256 JWT every Kling call carries. A token is
// re-signed when less than refresh of its lifetime is left, so a request
// never leaves with a token about to expire in flight.
type signer struct {
	ak, sk  string
	ttl     time.Duration
	refresh time.Duration
	now     func() time.Time

	mu    sync.Mutex
	token string
	exp   time.Time
}

func newSigner(ak, sk string, ttl time.Duration, now func() time.Time) *signer {
	// Refresh 5 min early for the default 30 min; short TTLs refresh at a
	// quarter of their lifetime instead.
	refresh := min(5*time.Minute, ttl/4)
	return &signer{ak: ak, sk: sk, ttl: ttl, refresh: refresh, now: now}
}

// get returns a cached token, signing a new one when it is near expiry.
func (s *signer) get() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.token != "" && now.Before(s.exp.Add(-s.refresh)) {
		return s.token, nil
	}
	tok, exp, err := signToken(s.ak, s.sk, now, s.ttl)
	if err != nil {
		return "", err
	}
	s.token, s.exp = tok, exp
	return tok, nil
}

// invalidate drops the cached token if it is still tok, so the next get
// signs afresh; a token another goroutine already replaced is kept.
func (s *signer) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == tok {
		s.token = ""
	}
}

// signToken builds the token exactly as kling-api.md §1.2: header
// {"alg":"HS256","typ":"JWT"}, claims iss=AK, exp=now+ttl, nbf=now-5s,
// HMAC-SHA256 with the SK bytes.
func signToken(ak, sk string, now time.Time, ttl time.Duration) (string, time.Time, error) {
	exp := now.Add(ttl)
	claims := jwt.RegisteredClaims{
		Issuer:    ak,
		ExpiresAt: jwt.NewNumericDate(exp),
		NotBefore: jwt.NewNumericDate(now.Add(-nbfSkew)),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(sk))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("kling: sign token: %w", err)
	}
	return tok, exp, nil
}
