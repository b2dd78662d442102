package main

import (
	"database/sql"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// groupStall is create groups held open across the kill (Postgres): the
// test holds the row lock of a user's credit account, and that user's
// create waits for it at its debit, one member of a group whose members
// before it have written and released their savepoints, uncommitted. The
// other committers' groups soon wait too, for the locks of the accounts
// the stalled group debited. Killed there, the groups must leave nothing
// and have answered no one.
type groupStall struct {
	db     *sql.DB
	tx     *sql.Tx // holds the lock
	pid    int     // the backend running the stalled group's transaction
	open   []int   // the backends of every group open at the kill
	answer chan burstOutcome
}

// stallGroup locks user's credit account row, sends one create for user
// into the burst, and waits until its group's transaction waits for the
// lock. The create queues behind the burst's creates waiting for a
// committer, so it joins a group after other members (the caller checks
// that their writes were open at the kill).
func stallGroup(t *testing.T, db *sql.DB, hc *http.Client, url string, user burstUser, userIdx int) *groupStall {
	t.Helper()
	s := &groupStall{db: db, answer: make(chan burstOutcome, 1)}
	var err error
	if s.tx, err = db.Begin(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.tx.Rollback() })
	var me int
	if err := s.tx.QueryRow(`SELECT pg_backend_pid() FROM credit_account WHERE user_id = $1 FOR UPDATE`, user.id).Scan(&me); err != nil {
		t.Fatalf("lock the credit account of %s: %v", user.id, err)
	}
	go func() { s.answer <- burstCreate(hc, url, user, userIdx, "gc-stall-1") }()
	waitUntil(t, "a transaction waits for the credit account's lock", func() bool {
		select {
		case o := <-s.answer:
			t.Fatalf("create %s got %d %s %v while its debit could not take the account's lock", o.key, o.status, o.body, o.err)
		default:
		}
		err := db.QueryRow(`SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, me).Scan(&s.pid)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		return err == nil
	})
	return s
}

// cut returns what the stalled create got once its process was killed: no
// answer.
func (s *groupStall) cut(t *testing.T) burstOutcome {
	t.Helper()
	var o burstOutcome
	select {
	case o = <-s.answer:
	case <-time.After(90 * time.Second):
		t.Fatal("the stalled create did not end with its process")
	}
	if o.status != 0 || o.refused() {
		t.Fatalf("stalled create %s: %d %s %v, want its answer cut off by the kill", o.key, o.status, o.body, o.err)
	}
	return o
}

// openKeys returns the keys among outcomes whose task an open group has
// written, after the kill. A group whose backend is not waiting for a lock
// ends on its own once it reads the closed connection (rolled back, or
// committed if its COMMIT had been sent): they are waited for. The groups
// left wait, directly or not, for the test's lock, mid-statement, so none
// can have been sent its COMMIT and none can end before release: an insert
// of the same key waits for one of them, so any wait means one, however
// short the lock timeout.
func (s *groupStall) openKeys(t *testing.T, outcomes []burstOutcome, users []burstUser) map[string]bool {
	t.Helper()
	waitUntil(t, "every transaction with writes to task waits for a lock", func() bool {
		rows, err := s.db.Query(`SELECT l.pid, coalesce(a.state = 'active' AND a.wait_event_type = 'Lock', false)
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.relation = 'task'::regclass AND l.mode = 'RowExclusiveLock' AND l.granted`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		s.open = s.open[:0]
		for rows.Next() {
			var pid int
			var waiting bool
			if err := rows.Scan(&pid, &waiting); err != nil {
				t.Fatal(err)
			}
			if !waiting {
				return false
			}
			s.open = append(s.open, pid)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return slices.Contains(s.open, s.pid)
	})
	open := map[string]bool{}
	for _, o := range outcomes {
		tx, err := s.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(`SET LOCAL lock_timeout = '20ms'`)
		if err == nil {
			_, err = tx.Exec(`INSERT INTO task (id, user_id, type, status, idempotency_key, created_at, updated_at)
				VALUES ($1, $2, 'probe', 'pending', $3, now(), now()) ON CONFLICT DO NOTHING`,
				"probe-"+o.key, users[o.user].id, o.key)
		}
		_ = tx.Rollback()
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
		case errors.As(err, &pgErr) && pgErr.Code == "55P03": // lock_not_available
			open[o.key] = true
		default:
			t.Fatalf("probe key %s: %v", o.key, err)
		}
	}
	return open
}

// release ends the test's lock and waits for the open groups' backends to
// notice that their client is gone, and roll back.
func (s *groupStall) release(t *testing.T) {
	t.Helper()
	if err := s.tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the open groups' backends have ended", func() bool {
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)`, s.open).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}
