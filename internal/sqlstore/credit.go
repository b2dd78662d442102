package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Ledger page limits.
const (
	defaultLedgerLimit = 100
	maxLedgerLimit     = 1000
)

// CreditBalance returns the user's balance, or grant when the user has no
// account yet (it is opened by the first TaskCreate).
func (s *Store) CreditBalance(ctx context.Context, userID string, grant int) (int, error) {
	var balance int
	err := s.db.QueryRowContext(ctx, `SELECT balance FROM credit_account WHERE user_id = $1`, userID).Scan(&balance)
	if classify(err) == errNoRows {
		return grant, nil
	}
	if err != nil {
		return 0, fmt.Errorf("credit balance: %w", err)
	}
	return balance, nil
}

// CreditLedger returns the user's entries newest first; limit defaults to
// 100 and is capped at 1000.
func (s *Store) CreditLedger(ctx context.Context, userID string, limit int) ([]lepus.LedgerEntry, error) {
	if limit <= 0 {
		limit = defaultLedgerLimit
	}
	limit = min(limit, maxLedgerLimit)
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, task_id, kind, amount, created_at
		FROM credit_ledger WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("credit ledger: %w", err)
	}
	defer rows.Close()
	var out []lepus.LedgerEntry
	for rows.Next() {
		var (
			e      lepus.LedgerEntry
			taskID sql.NullString
		)
		if err := rows.Scan(&e.ID, &e.UserID, &taskID, &e.Kind, &e.Amount, timeCol{&e.CreatedAt}); err != nil {
			return nil, fmt.Errorf("credit ledger: %w", err)
		}
		e.TaskID = taskID.String
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("credit ledger: %w", err)
	}
	return out, nil
}

// openAccount creates the user's account with the starting grant, and its
// grant ledger entry, unless the account exists.
func (s *Store) openAccount(ctx context.Context, tx *sql.Tx, userID string, grant int, now time.Time) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO credit_account (user_id, balance, created_at, updated_at)
		VALUES ($1, $2, $3, $3) ON CONFLICT (user_id) DO NOTHING`, userID, grant, s.d.ts(now))
	if err != nil {
		return fmt.Errorf("open credit account: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 || grant == 0 {
		return err
	}
	return s.addLedger(ctx, tx, userID, "", lepus.LedgerGrant, grant, now)
}

// debit takes cost credits if the balance covers them, and records the
// debit in the ledger. The conditional UPDATE is the whole check, so
// concurrent debits can never overdraw; on Postgres it locks the user's
// credit row until the transaction ends. The common case, an existing
// account that covers the cost, is one statement on Postgres (the ledger
// entry in the same statement) and two on SQLite. When it misses, the
// account is opened (with grant) if there is none and the debit tried once
// more: on Postgres the INSERT waits for a concurrent create that is
// opening the same account, and the second UPDATE, a new statement under
// READ COMMITTED, sees that account and any refund committed meanwhile.
func (s *Store) debit(ctx context.Context, tx *sql.Tx, userID, taskID string, cost int, now time.Time, grant int) error {
	for try := range 2 {
		ok, err := s.takeCredits(ctx, tx, userID, taskID, cost, now)
		if err != nil || ok {
			return err
		}
		if try == 0 {
			if err := s.openAccount(ctx, tx, userID, grant, now); err != nil {
				return err
			}
		}
	}
	var balance int
	if err := tx.QueryRowContext(ctx, `SELECT balance FROM credit_account WHERE user_id = $1`, userID).Scan(&balance); err != nil {
		return fmt.Errorf("read balance: %w", err)
	}
	return lepus.Errorf(lepus.ECredits, "insufficient credits: balance %d, cost %d", balance, cost)
}

// takeCreditsPG is takeCredits's UPDATE and ledger INSERT as one statement
// (SQLite has no data-modifying WITH); it inserts a ledger row only when
// the UPDATE took the credits.
const takeCreditsPG = `WITH taken AS (
	UPDATE credit_account SET balance = balance - $2, updated_at = $3
	WHERE user_id = $1 AND balance >= $2
	RETURNING user_id
)
INSERT INTO credit_ledger (user_id, task_id, kind, amount, created_at)
SELECT user_id, $4, '` + lepus.LedgerDebit + `', -$2, $3 FROM taken`

// takeCredits debits cost and adds its ledger entry if the account exists
// and covers it; ok false (nothing written) otherwise.
func (s *Store) takeCredits(ctx context.Context, tx *sql.Tx, userID, taskID string, cost int, now time.Time) (ok bool, err error) {
	if s.d.name == DialectPostgres {
		res, err := tx.ExecContext(ctx, takeCreditsPG, userID, cost, s.d.ts(now), taskID)
		if err != nil {
			return false, fmt.Errorf("debit credits: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("debit credits: %w", err)
		}
		return n > 0, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE credit_account SET balance = balance - $2, updated_at = $3
		WHERE user_id = $1 AND balance >= $2`, userID, cost, s.d.ts(now))
	if err != nil {
		return false, fmt.Errorf("debit credits: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	return true, s.addLedger(ctx, tx, userID, taskID, lepus.LedgerDebit, -cost, now)
}

// lockAccount locks the user's credit row for the rest of the transaction
// (Postgres; on SQLite the transaction already holds the only write lock),
// opening the account with grant if there is none.
func (s *Store) lockAccount(ctx context.Context, tx *sql.Tx, userID string, grant int, now time.Time) error {
	if err := s.openAccount(ctx, tx, userID, grant, now); err != nil || s.d.name != DialectPostgres {
		return err
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM credit_account WHERE user_id = $1 FOR UPDATE`, userID).Scan(&one); err != nil {
		return fmt.Errorf("lock credit account: %w", err)
	}
	return nil
}

// refund gives back the task's debit, if there was one and it was not
// refunded yet; the unique (task_id, kind) index makes it happen once.
// refund gives back a task's debit once: all of it, or only part credits
// when part is above zero (a completed task some of whose parts failed).
func (s *Store) refund(ctx context.Context, tx *sql.Tx, taskID string, part int, now time.Time) error {
	var (
		userID string
		amount int
	)
	err := tx.QueryRowContext(ctx, `SELECT user_id, amount FROM credit_ledger
		WHERE task_id = $1 AND kind = $2`, taskID, lepus.LedgerDebit).Scan(&userID, &amount)
	if classify(err) == errNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find debit: %w", err)
	}
	if part > 0 {
		amount = -min(part, -amount) // debits are negative
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO credit_ledger (user_id, task_id, kind, amount, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		userID, taskID, lepus.LedgerRefund, -amount, s.d.ts(now))
	if err != nil {
		return fmt.Errorf("record refund: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE credit_account SET balance = balance + $2, updated_at = $3
		WHERE user_id = $1`, userID, -amount, s.d.ts(now)); err != nil {
		return fmt.Errorf("refund credits: %w", err)
	}
	return nil
}

func (s *Store) addLedger(ctx context.Context, tx *sql.Tx, userID, taskID, kind string, amount int, now time.Time) error {
	var task any
	if taskID != "" {
		task = taskID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO credit_ledger (user_id, task_id, kind, amount, created_at)
		VALUES ($1, $2, $3, $4, $5)`, userID, task, kind, amount, s.d.ts(now)); err != nil {
		return mapErr(err, "add ledger entry", "ledger entry")
	}
	return nil
}
