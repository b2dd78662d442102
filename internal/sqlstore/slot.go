package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// SlotAcquire takes p.Cost units of p.Pool for p.Holder, first come first
// served: the units go to the holder only if they fit and no older waiter of
// the pool is ahead of it; otherwise the holder joins (or keeps its place
// in) the pool's waiting line and SlotAcquire answers false. A holder that
// already has its units gets true again without taking more. Every step
// runs in one transaction; on both databases the pool row's update lock
// serialises concurrent acquirers from several processes, so as little as
// possible happens while it is held.
func (s *Store) SlotAcquire(ctx context.Context, p *lepus.SlotAcquireParams) (bool, error) {
	if p == nil || p.Pool == "" || p.Holder == "" || p.Cost <= 0 || p.Capacity < 0 {
		return false, lepus.Errorf(lepus.EInvalid, "slot needs a pool, a holder, a cost > 0 and a capacity >= 0")
	}
	now := s.clock()
	acquired := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.d.asyncCommit(ctx, tx); err != nil {
			return err
		}
		// Lock the task row first (the order TaskFinish takes): a task that
		// ended meanwhile (canceled) gets no slot, so none can leak.
		if err := lockRunningTask(ctx, tx, p.TaskID); err != nil {
			return err
		}
		var held, waiting bool
		if err := tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM provider_slot WHERE holder = $1),
			EXISTS (SELECT 1 FROM slot_waiter WHERE pool = $2 AND holder <> $1 AND seen_at > $3 AND cost <= $4)`,
			p.Holder, p.Pool, s.d.ts(now.Add(-waiterGone)), p.Capacity).Scan(&held, &waiting); err != nil {
			return fmt.Errorf("find slot: %w", err)
		}
		if held {
			acquired = true
			return nil
		}
		if !waiting {
			// Nobody in line: take the units without joining it, in one
			// statement on Postgres.
			ok, err := s.takeFree(ctx, tx, p, now)
			if err != nil || ok {
				acquired = ok
				return err
			}
		}
		// Join the waiting line before taking the pool's lock: nobody else
		// sees the row before this commits either way, and it is the order
		// the releases take (task, waiter, pool), so a cancel racing its
		// task's acquire cannot deadlock with it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO slot_waiter (holder, pool, task_id, cost, since, seen_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (holder) DO UPDATE SET seen_at = excluded.seen_at, cost = excluded.cost`,
			p.Holder, p.Pool, p.TaskID, p.Cost, s.d.ts(now)); err != nil {
			return fmt.Errorf("join waiting line: %w", err)
		}
		if err := lockPool(ctx, tx, p); err != nil {
			return err
		}
		ok, err := s.takeUnits(ctx, tx, p, now)
		if err != nil || !ok {
			return err // no room for it yet: it keeps its place in line
		}
		acquired = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("acquire slot: %w", err)
	}
	return acquired, nil
}

// lockPool takes the pool row's lock, which every acquirer of the pool
// takes, creating the row on first use.
func lockPool(ctx context.Context, tx *sql.Tx, p *lepus.SlotAcquireParams) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO provider_pool (name, used, capacity) VALUES ($1, 0, $2)
		ON CONFLICT (name) DO UPDATE SET capacity = excluded.capacity`, p.Pool, p.Capacity); err != nil {
		return fmt.Errorf("lock pool: %w", err)
	}
	return nil
}

// takeFreePG takes units of a pool in which nobody waits, in one statement
// that holds the pool's lock only until its transaction commits. Its
// snapshot is from before it waited for the lock, so a waiter that joined
// the line in that instant can be passed: two arrivals that close together
// have no order to keep. A pool row not made yet, no room, or a waiter it
// sees leave it to the waiting line's path.
const takeFreePG = `WITH taken AS (
	UPDATE provider_pool SET used = used + $4, capacity = $3
	WHERE name = $5 AND used + $4 <= $3 AND NOT EXISTS (
		SELECT 1 FROM slot_waiter WHERE pool = $5 AND holder <> $1 AND seen_at > $2 AND cost <= $3)
` + takenPG

// takenPG ends takeFreePG and takeUnitsPG: the holder whose units were
// taken leaves the waiting line and gets its slot row. Parameters: $1
// holder, $2 presumed-gone time, $3 capacity, $4 cost, $5 pool, $6 task
// id, $7 now.
const takenPG = `
	RETURNING name
), left_line AS (
	DELETE FROM slot_waiter WHERE holder = $1 AND EXISTS (SELECT 1 FROM taken)
)
INSERT INTO provider_slot (holder, pool, task_id, cost, acquired_at)
SELECT $1, name, $6::text, $4, $7::timestamptz FROM taken`

// execTakePG runs takeFreePG or takeUnitsPG and reports whether the units
// were taken.
func (s *Store) execTakePG(ctx context.Context, tx *sql.Tx, query string, p *lepus.SlotAcquireParams, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, query, p.Holder, s.d.ts(now.Add(-waiterGone)), p.Capacity, p.Cost, p.Pool, p.TaskID, s.d.ts(now))
	if err != nil {
		return false, fmt.Errorf("take units: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// takeFree gives the holder its units if they fit and nobody waits for
// the pool. On SQLite the transaction already excludes every other
// writer, so it is the waiting line's path without joining the line.
func (s *Store) takeFree(ctx context.Context, tx *sql.Tx, p *lepus.SlotAcquireParams, now time.Time) (bool, error) {
	if s.d.name != DialectPostgres {
		if err := lockPool(ctx, tx, p); err != nil {
			return false, err
		}
		return s.takeUnits(ctx, tx, p, now)
	}
	return s.execTakePG(ctx, tx, takeFreePG, p, now)
}

// aheadSQL sums the units of every older live waiter of the holder's pool:
// they are kept for them, so the holder goes only if they and its own fit.
const aheadSQL = `SELECT coalesce(sum(w.cost), 0) AS units FROM slot_waiter w, slot_waiter me
	WHERE me.holder = $1 AND w.pool = me.pool AND w.holder <> me.holder
	  AND (w.since < me.since OR (w.since = me.since AND w.holder < me.holder))
	  AND w.seen_at > $2 AND w.cost <= $3`

// takeUnitsPG is takeUnits in one statement, for Postgres: the pool's
// acquirers queue on its row, so each round trip saved under that lock is
// saved once per acquire of the pool. The statement starts after the lock
// is held, so its snapshot sees every waiter that committed before.
const takeUnitsPG = `WITH ahead AS (` + aheadSQL + `
), taken AS (
	UPDATE provider_pool SET used = used + $4
	WHERE name = $5 AND used + $4 + (SELECT units FROM ahead) <= $3
` + takenPG

// takeUnits gives the holder its units and a slot row if they fit after
// the older waiters', and takes it out of the waiting line. The caller
// holds the pool's lock.
func (s *Store) takeUnits(ctx context.Context, tx *sql.Tx, p *lepus.SlotAcquireParams, now time.Time) (bool, error) {
	gone := s.d.ts(now.Add(-waiterGone))
	if s.d.name == DialectPostgres {
		return s.execTakePG(ctx, tx, takeUnitsPG, p, now)
	}
	var ahead int
	if err := tx.QueryRowContext(ctx, aheadSQL, p.Holder, gone, p.Capacity).Scan(&ahead); err != nil {
		return false, fmt.Errorf("check waiting line: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE provider_pool SET used = used + $2
		WHERE name = $1 AND used + $2 + $4 <= $3`, p.Pool, p.Cost, p.Capacity, ahead)
	if err != nil {
		return false, fmt.Errorf("take units: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM slot_waiter WHERE holder = $1`, p.Holder); err != nil {
		return false, fmt.Errorf("leave waiting line: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO provider_slot (holder, pool, task_id, cost, acquired_at)
		VALUES ($1, $2, $3, $4, $5)`, p.Holder, p.Pool, p.TaskID, p.Cost, s.d.ts(now)); err != nil {
		return false, fmt.Errorf("insert slot: %w", err)
	}
	return true, nil
}

// waiterGone is how long a waiter may go without asking again before it is
// presumed gone (its job died) and keeps nobody waiting. Waiters ask every
// 30 s (job.DefaultSlotWait) or sooner when woken.
const waiterGone = 5 * time.Minute

// nextScan bounds how many waiters one SlotNext reads: more units than
// that never free at once.
const nextScan = 500

// SlotNext returns, for every pool, the waiters at the head of its line
// whose units fit in what is free now, oldest first, with their tasks'
// jobs: the ones to wake after units were given back. Waiters presumed
// gone, or that can never fit, are passed over.
func (s *Store) SlotNext(ctx context.Context) ([]lepus.SlotWaiter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT w.pool, w.task_id, w.cost, p.capacity - p.used, coalesce(t.job_id, 0)
		FROM slot_waiter w JOIN provider_pool p ON p.name = w.pool LEFT JOIN task t ON t.id = w.task_id
		WHERE w.seen_at > $1 AND w.cost <= p.capacity
		ORDER BY w.pool, w.since, w.holder LIMIT $2`, s.d.ts(s.clock().Add(-waiterGone)), nextScan)
	if err != nil {
		return nil, fmt.Errorf("slot waiters: %w", err)
	}
	defer rows.Close()
	var out []lepus.SlotWaiter
	free := map[string]int{}
	blocked := map[string]bool{}
	for rows.Next() {
		var w lepus.SlotWaiter
		var cost, avail int
		if err := rows.Scan(&w.Pool, &w.TaskID, &cost, &avail, &w.JobID); err != nil {
			return nil, fmt.Errorf("slot waiters: %w", err)
		}
		if _, ok := free[w.Pool]; !ok {
			free[w.Pool] = avail
		}
		if blocked[w.Pool] || cost > free[w.Pool] {
			blocked[w.Pool] = true // first come first served: nobody passes the head
			continue
		}
		free[w.Pool] -= cost
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("slot waiters: %w", err)
	}
	return out, nil
}

// SlotRelease gives back the holder's units. Only the transaction that
// deletes the holder row decrements the pool, so a double release is a no-op.
func (s *Store) SlotRelease(ctx context.Context, holder string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM slot_waiter WHERE holder = $1`, holder); err != nil {
			return err
		}
		return releaseSlots(ctx, tx, `DELETE FROM provider_slot WHERE holder = $1 RETURNING pool, cost`, holder)
	})
	if err != nil {
		return fmt.Errorf("release slot: %w", err)
	}
	return nil
}

// SlotUsage returns the units in use in a pool (0 for a pool never used).
func (s *Store) SlotUsage(ctx context.Context, pool string) (int, error) {
	var used int
	err := s.db.QueryRowContext(ctx, `SELECT used FROM provider_pool WHERE name = $1`, pool).Scan(&used)
	if classify(err) == errNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("slot usage: %w", err)
	}
	return used, nil
}

// releaseTaskSlots frees every slot a task holds.
func (s *Store) releaseTaskSlots(ctx context.Context, tx *sql.Tx, taskID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM slot_waiter WHERE task_id = $1`, taskID); err != nil {
		return fmt.Errorf("leave waiting lines: %w", err)
	}
	if err := releaseSlots(ctx, tx, `DELETE FROM provider_slot WHERE task_id = $1 RETURNING pool, cost`, taskID); err != nil {
		return fmt.Errorf("release task slots: %w", err)
	}
	return nil
}

// releaseSlots runs a DELETE ... RETURNING pool, cost and gives the deleted
// rows' units back to their pools.
func releaseSlots(ctx context.Context, tx *sql.Tx, deleteQuery, arg string) error {
	rows, err := tx.QueryContext(ctx, deleteQuery, arg)
	if err != nil {
		return err
	}
	type slot struct {
		pool string
		cost int
	}
	var freed []slot
	for rows.Next() {
		var sl slot
		if err := rows.Scan(&sl.pool, &sl.cost); err != nil {
			rows.Close()
			return err
		}
		freed = append(freed, sl)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, sl := range freed {
		if _, err := tx.ExecContext(ctx, `UPDATE provider_pool
			SET used = CASE WHEN used > $2 THEN used - $2 ELSE 0 END WHERE name = $1`,
			sl.pool, sl.cost); err != nil {
			return err
		}
	}
	return nil
}

// lockRunningTask row-locks a task that has not ended; ErrTaskEnded if it
// has. An id that names no task locks nothing.
func lockRunningTask(ctx context.Context, tx *sql.Tx, taskID string) error {
	if taskID == "" {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE task SET updated_at = updated_at
		WHERE id = $1 AND status IN ('pending', 'processing')`, taskID)
	if err != nil {
		return fmt.Errorf("lock task: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM task WHERE id = $1`, taskID).Scan(&exists); err != nil {
		return fmt.Errorf("lock task: %w", err)
	}
	if exists > 0 {
		return lepus.ErrTaskEnded
	}
	return nil
}
