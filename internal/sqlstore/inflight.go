package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// checkInFlight refuses a create when the user already has max tasks in
// flight (pending or processing). It runs in the create transaction after
// the user's credit row is locked (createInTx), which makes it exact across
// processes: on Postgres one user's creates count one after another, and
// the count, a new statement under READ COMMITTED, sees every create that
// committed before the lock was granted; on SQLite _txlock=immediate gives
// the transaction the database's only write lock.
func checkInFlight(ctx context.Context, tx *sql.Tx, userID string, max int) error {
	n, err := countInFlight(ctx, tx, userID, max)
	if err != nil {
		return err
	}
	if n >= max {
		return lepus.Errorf(lepus.ELimit,
			"too many tasks in flight: you have %d unfinished tasks and the cap is %d per user; wait for one to end or cancel one", n, max)
	}
	return nil
}

// countInFlightSQL reads the partial index task_inflight_idx (migration
// 008): its predicate is this WHERE's status test, written identically, so
// both planners can prove the index covers the query.
const countInFlightSQL = `SELECT count(*) FROM (SELECT 1 FROM task
	WHERE user_id = $1 AND status IN ('pending', 'processing') LIMIT $2) AS f`

// countInFlight counts the user's pending and processing tasks, stopping at
// limit: the answer only needs to say whether the cap is reached, and a
// user with a huge backlog must not make every create count all of it.
func countInFlight(ctx context.Context, q querier, userID string, limit int) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, countInFlightSQL, userID, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count tasks in flight: %w", err)
	}
	return n, nil
}
