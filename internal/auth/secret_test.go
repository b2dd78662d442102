package auth

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestLoadOrCreateSecret(t *testing.T) {
	t.Parallel()

	t.Run("Configured", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		got, err := LoadOrCreateSecret("supabase-secret", dir)
		if err != nil || string(got) != "supabase-secret" {
			t.Fatalf("got %q, %v", got, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "jwt-secret")); !os.IsNotExist(err) {
			t.Errorf("secret file written although one was configured: %v", err)
		}
	})

	t.Run("CreatedOnceAndReused", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data")
		first, err := LoadOrCreateSecret("", dir)
		if err != nil {
			t.Fatalf("first: %v", err)
		}
		if len(first) != 64 {
			t.Fatalf("secret is %d chars, want 64 hex chars", len(first))
		}
		if _, err := hex.DecodeString(string(first)); err != nil {
			t.Errorf("secret is not hex: %v", err)
		}
		info, err := os.Stat(filepath.Join(dir, "jwt-secret"))
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode = %o, want 600", perm)
		}
		second, err := LoadOrCreateSecret("", dir)
		if err != nil || !bytes.Equal(first, second) {
			t.Errorf("second call = %q, %v; want the same secret", second, err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("data dir holds %d entries, want only jwt-secret", len(entries))
		}
		if _, err := NewSigner(first, nil); err != nil {
			t.Errorf("generated secret unusable: %v", err)
		}
	})

	t.Run("ConcurrentStartsAgree", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		secrets := make([][]byte, 8)
		var wg sync.WaitGroup
		for i := range secrets {
			wg.Go(func() {
				s, err := LoadOrCreateSecret("", dir)
				if err != nil {
					t.Errorf("call %d: %v", i, err)
				}
				secrets[i] = s
			})
		}
		wg.Wait()
		for i, s := range secrets {
			if !bytes.Equal(s, secrets[0]) {
				t.Errorf("call %d got a different secret", i)
			}
		}
	})

	t.Run("ExistingFileTrimmed", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		want := "operator-provided-secret-at-least-32-bytes"
		if err := os.WriteFile(filepath.Join(dir, "jwt-secret"), []byte(want+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadOrCreateSecret("", dir)
		if err != nil || string(got) != want {
			t.Errorf("got %q, %v", got, err)
		}
	})

	t.Run("ErrEmptyFile", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "jwt-secret"), []byte("\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateSecret("", dir); err == nil {
			t.Error("empty secret file accepted")
		}
	})

	t.Run("ErrNoDataDir", func(t *testing.T) {
		t.Parallel()
		if _, err := LoadOrCreateSecret("", ""); err == nil {
			t.Error("no secret and no data dir accepted")
		}
	})

	t.Run("TokensSurviveRestart", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		secret1, _ := LoadOrCreateSecret("", dir)
		s1, _ := NewSigner(secret1, nil)
		tok, err := s1.Sign("user-7", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		secret2, _ := LoadOrCreateSecret("", dir)
		s2, err := NewSigner(secret2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if id, err := s2.Verify(tok); err != nil || id != "user-7" {
			t.Errorf("after restart Verify = %q, %v", id, err)
		}
	})
}
