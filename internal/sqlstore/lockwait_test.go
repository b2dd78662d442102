package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sqlstore"
)

// backendPID returns the Postgres backend serving tx, or 0 on SQLite.
func backendPID(ctx context.Context, s *sqlstore.Store, tx *sql.Tx) (int, error) {
	if s.Dialect() != sqlstore.DialectPostgres {
		return 0, nil
	}
	var pid int
	err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
	return pid, err
}

// waitBlockedBy waits until another backend waits on a lock that the
// transaction of backend pid holds, so a test can let that transaction
// commit knowing a concurrent one is past its reads and queued behind it.
// On SQLite it returns at once: there the second transaction cannot even
// begin (BEGIN IMMEDIATE, one connection) until the first ends, so there
// is no interleaving to arrange.
func waitBlockedBy(t *testing.T, s *sqlstore.Store, pid int) {
	t.Helper()
	if s.Dialect() != sqlstore.DialectPostgres {
		return
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		if err := s.DB().QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&n); err != nil {
			t.Fatalf("look for blocked backends: %v", err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backend waited on a lock of backend %d within a minute", pid)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not timing
	}
}
