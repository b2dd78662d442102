package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect names returned by Store.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// migrationLockKey is the pg_advisory_xact_lock key that serializes
// concurrent migrators ("lepus" in ASCII).
const migrationLockKey int64 = 0x6c65707573

// sqliteParams are appended to every SQLite DSN. busy_timeout comes first so
// that switching to WAL waits for other processes instead of failing;
// _txlock=immediate takes the write lock at BEGIN, so two transactions never
// deadlock upgrading a read lock.
const sqliteParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// dialect holds every difference between SQLite and Postgres that the Go code
// sees. Both accept $N placeholders (modernc binds "$N" to the Nth argument),
// ON CONFLICT, RETURNING and partial indexes, so queries are shared; what
// differs is how timestamps are stored and how migrations are locked.
type dialect struct {
	name string
}

// dialectFor picks the dialect from the DSN scheme.
func dialectFor(dsn string) dialect {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return dialect{name: DialectPostgres}
	}
	return dialect{name: DialectSQLite}
}

// open returns the pool. SQLite connections keep their prepared statements
// (stmtcache.go); pgx caches them itself (QueryExecModeCacheStatement).
func (d dialect) open(dsn string) (*sql.DB, error) {
	if d.name == DialectSQLite {
		return sql.OpenDB(sqliteConnector{dsn: d.driverDSN(dsn)}), nil
	}
	return sql.Open("pgx", dsn)
}

// driverDSN adds the SQLite pragmas; Postgres DSNs pass through.
func (d dialect) driverDSN(dsn string) string {
	switch {
	case d.name != DialectSQLite:
		return dsn
	case strings.Contains(dsn, "?"):
		return dsn + "&" + sqliteParams
	default:
		return dsn + "?" + sqliteParams
	}
}

// configure sizes the pool: River shares it and requires a single SQLite
// connection; Postgres keeps database/sql's defaults.
func (d dialect) configure(db *sql.DB) {
	if d.name == DialectSQLite {
		db.SetMaxOpenConns(1)
	}
}

// ts converts a time to its column value: timestamptz on Postgres, integer
// unix microseconds on SQLite (modernc would otherwise write a string).
func (d dialect) ts(t time.Time) any {
	if d.name == DialectSQLite {
		return t.UnixMicro()
	}
	return t
}

// now is the SQL for the database's current time in a timestamp column,
// where one clock must judge several processes (Postgres only: SQLite's
// processes share one host, and its columns hold integers from Go's clock).
func (d dialect) now() string {
	if d.name == DialectSQLite {
		return "NULL"
	}
	return "now()"
}

// tsPtr is ts for nullable columns.
func (d dialect) tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.ts(*t)
}

// forUpdate ends a SELECT that a transaction reads in order to write: on
// Postgres it locks the rows read, so a concurrent transaction waits and
// then reads what this one committed. SQLite has no row locks and needs
// none: _txlock=immediate gives the transaction the write lock at BEGIN.
func (d dialect) forUpdate() string {
	if d.name == DialectSQLite {
		return ""
	}
	return " FOR UPDATE"
}

// asyncCommit lets the transaction tx commit without waiting for its WAL
// to reach the disk, on Postgres (SQLite is left as it is). Only for writes
// that cost nothing if a crash of the database server undoes them: a
// provider slot's acquire, which a retried job takes again. Whatever the
// job does next that matters (the provider task's id) commits durably,
// which flushes this commit too. A crash of Lepus loses nothing: the
// commit is done, only its flush is late.
func (d dialect) asyncCommit(ctx context.Context, tx *sql.Tx) error {
	if d.name != DialectPostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO off`); err != nil {
		return fmt.Errorf("async commit: %w", err)
	}
	return nil
}

// migrationTable is the DDL of the table that records applied migrations.
func (d dialect) migrationTable() string {
	if d.name == DialectSQLite {
		return `CREATE TABLE IF NOT EXISTS lepus_migration (
	version INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`
	}
	return `CREATE TABLE IF NOT EXISTS lepus_migration (
	version integer PRIMARY KEY,
	applied_at timestamptz NOT NULL
)`
}

// lockMigrations serializes migrators. SQLite needs nothing: _txlock=immediate
// already gives the transaction the database's single write lock.
func (d dialect) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	if d.name == DialectSQLite {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	return nil
}

// timeCol scans a NOT NULL timestamp column of either dialect.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	t, err := scanTime(src)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("scan time: unexpected NULL")
	}
	*c.t = *t
	return nil
}

// nullTimeCol scans a nullable timestamp column of either dialect.
type nullTimeCol struct{ t **time.Time }

func (c nullTimeCol) Scan(src any) error {
	t, err := scanTime(src)
	if err != nil {
		return err
	}
	*c.t = t
	return nil
}

func scanTime(src any) (*time.Time, error) {
	var t time.Time
	switch v := src.(type) {
	case nil:
		return nil, nil
	case int64:
		t = time.UnixMicro(v)
	case time.Time:
		t = v
	default:
		return nil, fmt.Errorf("scan time: unsupported type %T", src)
	}
	t = t.UTC()
	return &t, nil
}

// args collects query arguments and hands out their placeholders, for
// queries built at run time.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}
