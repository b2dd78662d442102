package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFS holds the numbered SQL files, one directory per dialect.
//
//go:embed migration
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads migration/<dialect>/NNN_name.sql in version order.
func loadMigrations(dialectName string) ([]migration, error) {
	dir := path.Join("migration", dialectName)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate applies the embedded migrations not yet recorded in
// lepus_migration, each in its own transaction. It is idempotent and safe to
// run from several processes at once. River's tables are not its business.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.d.name)
	if err != nil {
		return err
	}
	for _, m := range ms {
		applied, err := s.applyMigration(ctx, m)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if applied {
			s.log.InfoContext(ctx, "migration applied", "dialect", s.d.name, "version", m.version, "name", m.name)
		}
	}
	return nil
}

// CheckMigrated returns an error naming the first embedded migration not
// applied yet, or nil when the schema is current.
func (s *Store) CheckMigrated(ctx context.Context) error {
	ms, err := loadMigrations(s.d.name)
	if err != nil {
		return err
	}
	applied := map[int]bool{}
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM lepus_migration`)
	if err != nil {
		return fmt.Errorf("Lepus's tables are missing (%v)", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return err
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range ms {
		if !applied[m.version] {
			return fmt.Errorf("Lepus's tables are not current (migration %s is not applied)", m.name)
		}
	}
	return nil
}

// applyMigration runs m unless it is already recorded. The lock is taken
// before the bookkeeping table is created so that concurrent first runs do
// not race on CREATE TABLE either.
func (s *Store) applyMigration(ctx context.Context, m migration) (applied bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.d.lockMigrations(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.migrationTable()); err != nil {
			return fmt.Errorf("create migration table: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM lepus_migration WHERE version = $1`, m.version).Scan(&n); err != nil {
			return fmt.Errorf("read migration table: %w", err)
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO lepus_migration (version, applied_at) VALUES ($1, $2)`,
			m.version, s.d.ts(s.clock())); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		applied = true
		return nil
	})
	return applied, err
}
