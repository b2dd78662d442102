// Package sqlstoretest gives tests of any package a migrated, isolated
// sqlstore.Store: a temporary SQLite file, or a fresh Postgres schema when
// LEPUS_TEST_DATABASE_URL is set.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sqlstore"
)

// EnvDatabaseURL names the variable holding the Postgres test database URL.
const EnvDatabaseURL = "LEPUS_TEST_DATABASE_URL"

// Open returns a migrated store for dialect ("sqlite" or "postgres") and the
// DSN it was opened with, closed and removed when tb ends. Postgres tests are
// skipped when LEPUS_TEST_DATABASE_URL is unset and fail when it is set but
// the database is unreachable. Each call gets its own schema, so tests may
// run in parallel.
func Open(tb testing.TB, dialect string) (*sqlstore.Store, string) {
	tb.Helper()
	return OpenWith(tb, dialect, sqlstore.Options{})
}

// OpenWith is Open with store options (e.g. a fake clock).
func OpenWith(tb testing.TB, dialect string, opts sqlstore.Options) (*sqlstore.Store, string) {
	tb.Helper()
	var dsn string
	switch dialect {
	case sqlstore.DialectSQLite:
		dsn = filepath.Join(tb.TempDir(), "lepus.db")
	case sqlstore.DialectPostgres:
		dsn = PostgresSchema(tb)
	default:
		tb.Fatalf("sqlstoretest: unknown dialect %q", dialect)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, dsn, opts)
	if err != nil {
		tb.Fatalf("sqlstoretest: open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("sqlstoretest: migrate: %v", err)
	}
	return s, dsn
}

// PostgresSchema creates an empty schema in the test database and returns a
// DSN whose search_path points at it; the schema is dropped when tb ends.
// Register it before anything that opens the DSN, so it is cleaned up last.
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		tb.Skipf("%s is not set; skipping Postgres test", EnvDatabaseURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("sqlstoretest: parse %s: %v", EnvDatabaseURL, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("sqlstoretest: open admin connection: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = admin.Close()
		tb.Fatalf("sqlstoretest: postgres at %s unreachable or unusable: %v", EnvDatabaseURL, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("sqlstoretest: drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
