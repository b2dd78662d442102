package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
)

// testInFlightIndex: with many users and mostly finished tasks, the
// in-flight count reads the user's in-flight tasks through
// task_inflight_idx, not every unfinished task of every user (it runs
// under the user's lock on every capped create).
func (su suite) testInFlightIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := su.open(t, 0)
	db := s.DB()
	// 20,000 tasks of 200 users, one in twenty unfinished.
	seed := map[string]string{
		sqlstore.DialectPostgres: `INSERT INTO task (id, user_id, type, status, created_at, updated_at)
			SELECT 'seed_' || g, 'user_' || (g % 200), 'image',
				CASE g % 20 WHEN 0 THEN 'pending' WHEN 1 THEN 'processing' ELSE 'completed' END, now(), now()
			FROM generate_series(1, 20000) AS g`,
		sqlstore.DialectSQLite: `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
			INSERT INTO task (id, user_id, type, status, created_at, updated_at)
			SELECT 'seed_' || n, 'user_' || (n % 200), 'image',
				CASE n % 20 WHEN 0 THEN 'pending' WHEN 1 THEN 'processing' ELSE 'completed' END, 0, 0
			FROM g`,
	}[su.dialect]
	for _, q := range []string{seed, `ANALYZE`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	explain := map[string]string{sqlstore.DialectPostgres: "EXPLAIN ", sqlstore.DialectSQLite: "EXPLAIN QUERY PLAN "}[su.dialect]
	plan := explainLines(t, db, explain+sqlstore.CountInFlightSQL, "user_7", 3)
	if !strings.Contains(plan, "task_inflight_idx") {
		t.Fatalf("the in-flight count does not use task_inflight_idx:\n%s", plan)
	}
	t.Logf("plan:\n%s", plan)
}

// explainLines runs an EXPLAIN and joins its text column(s), one row a line.
func explainLines(t *testing.T, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		// The plan text is the last column on both (SQLite: detail).
		switch v := vals[len(vals)-1].(type) {
		case string:
			b.WriteString(v)
		case []byte:
			b.Write(v)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// testIdempotencyIndex: among many tasks of one user, the idempotency
// lookup every keyed create makes reads the key's unique index, not the
// user's tasks by date (which for a new key meant all of them). On
// Postgres the plan checked is the generic one that a prepared statement
// settles on.
func (su suite) testIdempotencyIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := su.open(t, 0)
	db := s.DB()
	// Statistics from when the user had a few tasks, as a busy table's
	// often are: the lookup must not depend on fresh ones.
	seed := func(prefix string, n int) string {
		return fmt.Sprintf(map[string]string{
			sqlstore.DialectPostgres: `INSERT INTO task (id, user_id, type, status, idempotency_key, created_at, updated_at)
				SELECT '%[1]s' || g, 'user_1', 'image', 'processing', '%[1]s' || g, now(), now()
				FROM generate_series(1, %[2]d) AS g`,
			sqlstore.DialectSQLite: `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %[2]d)
				INSERT INTO task (id, user_id, type, status, idempotency_key, created_at, updated_at)
				SELECT '%[1]s' || n, 'user_1', 'image', 'processing', '%[1]s' || n, 0, 0 FROM g`,
		}[su.dialect], prefix, n)
	}
	for _, q := range []string{seed("first_", 20), `ANALYZE`, seed("more_", 20000)} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	query, args, err := s.ListQuery(&lepus.TaskListParams{UserID: "user_1", IdempotencyKey: "key_new", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var plan string
	if su.dialect == sqlstore.DialectSQLite {
		plan = explainLines(t, db, "EXPLAIN QUERY PLAN "+query, args...)
	} else {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{`SET plan_cache_mode = force_generic_plan`, `PREPARE lookup AS ` + query} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%.40s: %v", q, err)
			}
		}
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = fmt.Sprintf("'%v'", a) // the seed's ids, keys and limits need no escaping
		}
		plan = explainLines(t, conn, "EXPLAIN EXECUTE lookup("+strings.Join(quoted, ", ")+")")
	}
	if !strings.Contains(plan, "task_idempotency_key") {
		t.Fatalf("the idempotency lookup does not use task_idempotency_key:\n%s", plan)
	}
	t.Logf("plan:\n%s", plan)
}
