package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// errPoolFull makes SlotAcquire roll back when the units do not fit.
var errPoolFull = errors.New("pool full")

// SlotAcquire takes p.Cost units of p.Pool for p.Holder. The holder row is
// inserted first (ON CONFLICT DO NOTHING makes a second acquire by the same
// holder a no-op that answers true), then a conditional UPDATE takes the
// units only if they fit; on both databases the UPDATE's row lock is what
// makes concurrent acquirers from several processes safe.
func (s *Store) SlotAcquire(ctx context.Context, p *lepus.SlotAcquireParams) (bool, error) {
	if p == nil || p.Pool == "" || p.Holder == "" || p.Cost <= 0 || p.Capacity < 0 {
		return false, lepus.Errorf(lepus.EInvalid, "slot needs a pool, a holder, a cost > 0 and a capacity >= 0")
	}
	now := s.clock()
	acquired := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Lock the task row first (the order TaskFinish takes): a task that
		// ended meanwhile (canceled) gets no slot, so none can leak.
		if err := lockRunningTask(ctx, tx, p.TaskID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO provider_slot (holder, pool, task_id, cost, acquired_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (holder) DO NOTHING`,
			p.Holder, p.Pool, p.TaskID, p.Cost, s.d.ts(now))
		if err != nil {
			return fmt.Errorf("insert slot: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			acquired = err == nil // already held by this holder
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO provider_pool (name, used) VALUES ($1, 0)
			ON CONFLICT (name) DO NOTHING`, p.Pool); err != nil {
			return fmt.Errorf("ensure pool: %w", err)
		}
		res, err = tx.ExecContext(ctx, `UPDATE provider_pool SET used = used + $2
			WHERE name = $1 AND used + $2 <= $3`, p.Pool, p.Cost, p.Capacity)
		if err != nil {
			return fmt.Errorf("take units: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("take units: %w", err)
		}
		if n == 0 {
			return errPoolFull // roll back the holder row
		}
		acquired = true
		return nil
	})
	if errors.Is(err, errPoolFull) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire slot: %w", err)
	}
	return acquired, nil
}

// SlotRelease gives back the holder's units. Only the transaction that
// deletes the holder row decrements the pool, so a double release is a no-op.
func (s *Store) SlotRelease(ctx context.Context, holder string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
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
