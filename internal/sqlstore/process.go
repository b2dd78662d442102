package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Heartbeats are written and judged by one clock: on Postgres the
// database's (processes on several hosts may disagree), on SQLite the one
// host's.

// ProcessBeat records that a job-running process is alive (inserting it on
// its first beat).
func (s *Store) ProcessBeat(ctx context.Context, p *lepus.Process) error {
	now := any(s.d.ts(s.clock()))
	if s.d.name == DialectPostgres {
		now = nil // coalesce: the database's now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO lepus_process (id, host, pid, started_at, heartbeat_at)
		VALUES ($1, $2, $3, coalesce($4, `+s.d.now()+`), coalesce($4, `+s.d.now()+`))
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
		p.ID, p.Host, p.PID, now)
	if err != nil {
		return fmt.Errorf("process heartbeat: %w", err)
	}
	return nil
}

// ProcessLive returns the ids of processes whose last heartbeat is newer
// than lapse.
func (s *Store) ProcessLive(ctx context.Context, lapse time.Duration) (map[string]bool, error) {
	since := any(s.d.ts(s.clock().Add(-lapse)))
	q := `SELECT id FROM lepus_process WHERE heartbeat_at > $1`
	if s.d.name == DialectPostgres {
		since = lapse.Seconds()
		q = `SELECT id FROM lepus_process WHERE heartbeat_at > now() - make_interval(secs => $1)`
	}
	rows, err := s.db.QueryContext(ctx, q, since)
	if err != nil {
		return nil, fmt.Errorf("live processes: %w", err)
	}
	defer rows.Close()
	live := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("live processes: %w", err)
		}
		live[id] = true
	}
	return live, rows.Err()
}

// ProcessDelete removes processes: all but keep when keep is set (a SQLite
// process that holds the data dir's lock knows every other one is gone),
// or only the one named by id otherwise, and any that lapsed long ago.
func (s *Store) ProcessDelete(ctx context.Context, id, keep string) error {
	var err error
	if keep != "" {
		_, err = s.db.ExecContext(ctx, `DELETE FROM lepus_process WHERE id <> $1`, keep)
	} else {
		_, err = s.db.ExecContext(ctx, `DELETE FROM lepus_process WHERE id = $1 OR heartbeat_at < $2`,
			id, s.d.ts(s.clock().Add(-24*time.Hour)))
	}
	if err != nil {
		return fmt.Errorf("delete process: %w", err)
	}
	return nil
}
