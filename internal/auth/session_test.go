package auth

import (
	"testing"
	"time"
)

func TestSigner_Session(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	s, err := NewSigner([]byte("session-test-secret-session-test-secret"), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	const bind = "admin-token-0123456789"
	tok, err := s.SignSession(bind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		if err := s.VerifySession(tok, bind); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrNotAUserToken", func(t *testing.T) {
		t.Parallel()
		if user, err := s.Verify(tok); err == nil {
			t.Fatalf("a session passed as a token of user %q", user)
		}
		if _, err := s.VerifyAdmin(tok); err == nil {
			t.Fatal("a session passed as an admin JWT")
		}
	})
	t.Run("ErrRotated", func(t *testing.T) {
		t.Parallel()
		if err := s.VerifySession(tok, bind+"-rotated"); err == nil || err.Error() != "invalid token" {
			t.Fatalf("session after the admin token changed: %v", err)
		}
		if err := s.VerifySession(tok, ""); err == nil {
			t.Fatal("a session verified with no admin token")
		}
	})
	t.Run("ErrUserToken", func(t *testing.T) {
		t.Parallel()
		for _, sign := range []func(string, time.Duration) (string, error){s.Sign, s.SignAdmin} {
			user, err := sign("ops", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.VerifySession(user, bind); err == nil {
				t.Fatal("a user token passed as a session")
			}
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		t.Parallel()
		later, _ := NewSigner([]byte("session-test-secret-session-test-secret"), func() time.Time { return now.Add(2 * time.Hour) })
		if err := later.VerifySession(tok, bind); err == nil || err.Error() != "token expired" {
			t.Fatalf("expired session: %v", err)
		}
	})
}
