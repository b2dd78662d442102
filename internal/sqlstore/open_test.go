package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
)

func TestOpen_SQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, dsn, journal string
	}{
		{"Path", filepath.Join(dir, "a.db"), "wal"},
		{"PathWithQuery", filepath.Join(dir, "b.db") + "?_pragma=cache_size(-2000)", "wal"},
		{"FileURI", "file:" + filepath.Join(dir, "c.db"), "wal"},
		{"Memory", ":memory:", "memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, err := sqlstore.Open(ctx, tc.dsn, sqlstore.Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if s.Dialect() != sqlstore.DialectSQLite || s.DB().Stats().MaxOpenConnections != 1 {
				t.Fatalf("dialect %q, max open conns %d", s.Dialect(), s.DB().Stats().MaxOpenConnections)
			}
			var journal string
			var fk, busy, sync int
			db := s.DB()
			if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if journal != tc.journal || fk != 1 || busy != 5000 || sync != 1 {
				t.Fatalf("journal_mode %q foreign_keys %d busy_timeout %d synchronous %d", journal, fk, busy, sync)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if _, err := s.TaskGet(ctx, "x"); lepus.ErrorCode(err) != lepus.ENotFound {
				t.Fatalf("TaskGet = %v, want not_found", err)
			}
		})
	}
}

func TestOpen_ErrPostgresUnreachable(t *testing.T) {
	t.Parallel()
	_, err := sqlstore.Open(context.Background(),
		"postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", sqlstore.Options{})
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
}
