package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// lockDataDir takes an exclusive lock on the SQLite data dir, and on the
// database file when it lies elsewhere, so a second lepus process on the
// same dir or database refuses to start instead of sharing it (and taking
// the first one's running jobs for lost). The locks are the kernel's
// (flock): they go away with the process, even after kill -9.
func lockDataDir(dir, dbPath string) (unlock func(), err error) {
	unlockDir, err := lockFile(filepath.Join(dir, "lepus.lock"), "data dir "+dir)
	if err != nil {
		return nil, err
	}
	file, _, _ := strings.Cut(strings.TrimPrefix(dbPath, "file:"), "?")
	if file == "" || strings.Contains(file, ":memory:") {
		return unlockDir, nil // nothing on disk to share
	}
	abs, _ := filepath.Abs(file)
	if rel, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return unlockDir, nil // inside the locked dir
	}
	unlockDB, err := lockFile(abs+".lock", "database "+abs)
	if err != nil {
		unlockDir()
		return nil, err
	}
	return func() { unlockDB(); unlockDir() }, nil
}

// lockFile takes an exclusive flock on path; what names the locked thing.
func lockFile(path, what string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", what, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is in use by another lepus process; stop it first, or give this one its own LEPUS_DATA_DIR and LEPUS_DATABASE_URL", what)
		}
		return nil, fmt.Errorf("lock %s: %w", what, err)
	}
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
