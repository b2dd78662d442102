package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A database outside the data dir is locked too: two data dirs sharing
// one SQLite file cannot both serve it.
func TestLockDataDir_DatabaseElsewhere(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "shared.db")
	unlock, err := lockDataDir(t.TempDir(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := lockDataDir(t.TempDir(), db); err == nil || !strings.Contains(err.Error(), "database "+db) {
		t.Fatalf("second lock on %s: %v, want a refusal naming the database", db, err)
	}
	dir := t.TempDir()
	unlockIn, err := lockDataDir(dir, filepath.Join(dir, "lepus.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlockIn()
	if _, err := lockDataDir(dir, "file:"+filepath.Join(dir, "other.db")+"?mode=rwc"); err == nil || !strings.Contains(err.Error(), "data dir") {
		t.Fatalf("second lock on data dir %s: %v, want a refusal naming the data dir", dir, err)
	}
}
