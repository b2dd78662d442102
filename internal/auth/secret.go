package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretFile is the name of the generated secret inside the data dir.
const secretFile = "jwt-secret"

// LoadOrCreateSecret returns configured when it is set (a Supabase
// project's JWT secret). Otherwise it reads <dataDir>/jwt-secret, creating
// it on first start with 32 random bytes, hex-encoded, mode 0600, so a
// standalone install gets a stable secret without configuration. The
// secret is the file's text itself, so an operator can copy it into the
// configuration unchanged.
func LoadOrCreateSecret(configured, dataDir string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	if dataDir == "" {
		return nil, errors.New("auth: no jwt secret configured and no data dir to keep one in")
	}
	path := filepath.Join(dataDir, secretFile)
	secret, err := readSecret(path)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := createSecret(dataDir, path); err != nil {
		return nil, err
	}
	return readSecret(path)
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read jwt secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, fmt.Errorf("auth: jwt secret file %s is empty", path)
	}
	return []byte(s), nil
}

// createSecret writes a new secret to a temporary file and links it into
// place. The link fails if another process (the worker starting next to
// the server) got there first; then that process's secret wins and both
// use it.
func createSecret(dataDir, path string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("auth: create data dir: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("auth: generate jwt secret: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, secretFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("auth: create jwt secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod makes the intent explicit.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: create jwt secret: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write jwt secret: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write jwt secret: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("auth: write jwt secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("auth: install jwt secret: %w", err)
	}
	return nil
}
