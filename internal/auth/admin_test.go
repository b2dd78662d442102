package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSigner_VerifyAdmin(t *testing.T) {
	t.Parallel()
	now := t0
	s := newSigner(t, &now)

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		tok, err := s.SignAdmin("ops", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if sub, err := s.VerifyAdmin(tok); err != nil || sub != "ops" {
			t.Fatalf("VerifyAdmin = %q, %v; want ops, nil", sub, err)
		}
		// An admin is also a user: the API accepts the same token.
		if sub, err := s.Verify(tok); err != nil || sub != "ops" {
			t.Fatalf("Verify = %q, %v; want ops, nil", sub, err)
		}
	})

	refused := []struct {
		name  string
		token func(t *testing.T) string
		msg   string
	}{
		{"ErrUserToken", func(t *testing.T) string {
			tok, err := s.Sign("user-1", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, "not an admin token"},
		{"ErrOtherRole", func(t *testing.T) string {
			c := validClaims()
			c[AdminClaim] = "user"
			return signMap(t, jwt.SigningMethodHS256, testSecret, c)
		}, "not an admin token"},
		{"ErrRoleNotString", func(t *testing.T) string {
			c := validClaims()
			c[AdminClaim] = []string{"admin"}
			return signMap(t, jwt.SigningMethodHS256, testSecret, c)
		}, "invalid token"},
		{"ErrWrongSecret", func(t *testing.T) string {
			c := validClaims()
			c[AdminClaim] = "admin"
			return signMap(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-1234"), c)
		}, "invalid token"},
		{"ErrExpired", func(t *testing.T) string {
			c := validClaims()
			c[AdminClaim] = "admin"
			c["iat"], c["exp"] = t0.Add(-2*time.Hour).Unix(), t0.Add(-time.Hour).Unix()
			return signMap(t, jwt.SigningMethodHS256, testSecret, c)
		}, "token expired"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.VerifyAdmin(tc.token(t))
			var ae *Error
			if !errors.As(err, &ae) || ae.Message != tc.msg {
				t.Fatalf("VerifyAdmin error = %v; want *Error %q", err, tc.msg)
			}
		})
	}
}
