// Package benchdb prepares the database a benchmarked `lepus serve` uses:
// SQLite in its data dir, or a fresh schema on a Postgres server that is
// dropped again at the end.
package benchdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver
)

// DB is where the child keeps its state, and a read-only connection a
// sampler may use to look at it.
type DB struct {
	LepusURL   string  // LEPUS_DATABASE_URL; "" means SQLite in the data dir
	SQLitePath string  // the SQLite file, <tmp>/data/lepus.db; "" on Postgres
	Probe      *sql.DB // read-only, one connection
	drop       func()  // removes the Postgres schema; nil for SQLite
}

// Open prepares the child's database: nothing for SQLite (lepus creates
// <tmp>/data/lepus.db), a fresh schema for a postgres:// URL, which the
// child reaches through search_path as sqlstoretest does.
func Open(ctx context.Context, pgURL, tmp string) (*DB, error) {
	if pgURL == "" {
		path := filepath.Join(tmp, "data", "lepus.db")
		// Opened lazily: the file exists once lepus has started.
		probe, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			return nil, fmt.Errorf("open sqlite probe: %w", err)
		}
		probe.SetMaxOpenConns(1)
		return &DB{SQLitePath: path, Probe: probe}, nil
	}
	if !strings.HasPrefix(pgURL, "postgres://") && !strings.HasPrefix(pgURL, "postgresql://") {
		return nil, fmt.Errorf("-db %q is not a postgres:// URL", pgURL)
	}
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	schema := "bench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`)
		_ = admin.Close()
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		drop()
		return nil, fmt.Errorf("parse -db: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	lepusURL := u.String()
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	probe, err := sql.Open("pgx", u.String())
	if err != nil {
		drop()
		return nil, fmt.Errorf("open postgres probe: %w", err)
	}
	probe.SetMaxOpenConns(1)
	return &DB{LepusURL: lepusURL, Probe: probe, drop: drop}, nil
}

// DSN is what sqlstore.Open takes for this database: the Postgres URL
// with its schema, or the SQLite file's path.
func (d *DB) DSN() string {
	if d.LepusURL != "" {
		return d.LepusURL
	}
	return d.SQLitePath
}

// Close closes the probe and drops the Postgres schema, if any.
func (d *DB) Close() {
	_ = d.Probe.Close()
	if d.drop != nil {
		d.drop()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
