package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// openCaching opens a SQLite pool of one connection through the caching
// connector, as Open does.
func openCaching(t *testing.T) *sql.DB {
	t.Helper()
	d := dialect{name: DialectSQLite}
	db, err := d.open(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	d.configure(db)
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec(`CREATE TABLE n (v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.Exec(`INSERT INTO n (v) VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// cached returns how many statements the pool's connection keeps.
func cached(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(dc any) error {
		n = dc.(*cachingConn).lru.Len()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStmtCache_ReusesAndNests(t *testing.T) {
	db := openCaching(t)
	const q = `SELECT v FROM n WHERE v >= $1 ORDER BY v`
	before := cached(t, db)
	// The same query inside its own open rows, on one connection (a
	// transaction): the inner use cannot take the busy statement, so it
	// prepares its own, and both read right.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var outer, inner []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, v)
		var first int
		if err := tx.QueryRow(q, v).Scan(&first); err != nil {
			t.Fatal(err)
		}
		inner = append(inner, first)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(outer) != "[0 1 2]" || fmt.Sprint(inner) != "[0 1 2]" {
		t.Fatalf("outer %v inner %v, want [0 1 2] both", outer, inner)
	}
	if got := cached(t, db); got != before+1 {
		t.Fatalf("cache holds %d statements, want %d (the query once)", got, before+1)
	}
	// After the rows closed the statement is free again and reused.
	var sum int
	for range 5 {
		var v int
		if err := db.QueryRow(q, 2).Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if sum != 10 || cached(t, db) != before+1 {
		t.Fatalf("sum %d, cache %d; want 10 and %d", sum, cached(t, db), before+1)
	}
}

func TestStmtCache_EvictsLeastRecentlyUsed(t *testing.T) {
	db := openCaching(t)
	for i := range stmtCacheSize + 20 {
		var v int
		// Distinct text each time: a new statement.
		if err := db.QueryRow(fmt.Sprintf(`SELECT v + %d FROM n WHERE v = $1`, i), 1).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != i+1 {
			t.Fatalf("query %d read %d", i, v)
		}
	}
	if got := cached(t, db); got != stmtCacheSize {
		t.Fatalf("cache holds %d statements, want %d", got, stmtCacheSize)
	}
}

func TestStmtCache_ScriptsAndTransactions(t *testing.T) {
	db := openCaching(t)
	// A multi-statement script still runs whole, twice.
	for range 2 {
		if _, err := db.Exec(`INSERT INTO n (v) VALUES (10); INSERT INTO n (v) VALUES (11)`); err != nil {
			t.Fatal(err)
		}
	}
	// A rolled-back transaction leaves nothing, through cached statements.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO n (v) VALUES ($1)`, 99); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var n10, n99 int
	if err := db.QueryRow(`SELECT count(*) FROM n WHERE v IN (10, 11)`).Scan(&n10); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM n WHERE v = 99`).Scan(&n99); err != nil {
		t.Fatal(err)
	}
	if n10 != 4 || n99 != 0 {
		t.Fatalf("script rows %d (want 4), rolled-back rows %d (want 0)", n10, n99)
	}
}
