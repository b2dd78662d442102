package sqlstore

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"

	"modernc.org/sqlite"
)

// stmtCacheSize bounds the prepared statements kept per connection. Lepus
// and River use a few hundred distinct statements; one built with a
// varying number of placeholders only pushes out the least recently used.
const stmtCacheSize = 512

// sqliteConnector opens modernc.org/sqlite connections that keep their
// prepared statements. modernc prepares every statement that database/sql
// runs on a connection (Exec, Query) again on each call and finalizes it
// after; SQLite's parser was a quarter of a create's CPU. database/sql's
// own prepared statements (db.Prepare) would cover only our queries, not
// River's, so the cache sits under database/sql, keyed by query text. We
// found no maintained database/sql wrapper that caches statements for
// every caller of a pool; this is the smallest one that does.
type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn)
}

func (sqliteConnector) Driver() driver.Driver { return &sqlite.Driver{} }

// sqliteConn is everything of modernc's connection that database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is one SQLite connection with a statement cache. database/sql
// uses a connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	sqliteConn
	lru   *list.List // of *cachedStmt, most recently used first
	stmts map[string]*list.Element
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	busy  bool // its rows are open: a nested use of the query prepares anew
}

func newCachingConn(c driver.Conn) (driver.Conn, error) {
	sc, ok := c.(sqliteConn)
	if !ok {
		_ = c.Close()
		return nil, fmt.Errorf("sqlite connection %T lacks a database/sql interface", c)
	}
	return &cachingConn{sqliteConn: sc, lru: list.New(), stmts: map[string]*list.Element{}}, nil
}

// take returns the cached statement for query, preparing it on first use;
// nil if the cached one is in use.
func (c *cachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.stmts[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return cs, nil
	}
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, stmt: st}
	c.stmts[query] = c.lru.PushFront(cs)
	c.evict()
	return cs, nil
}

// evict closes the least recently used statements that are not in use
// until the cache is within its size.
func (c *cachingConn) evict() {
	for e := c.lru.Back(); e != nil && c.lru.Len() > stmtCacheSize; {
		prev := e.Prev()
		if cs := e.Value.(*cachedStmt); !cs.busy {
			c.lru.Remove(e)
			delete(c.stmts, cs.query)
			_ = cs.stmt.Close()
		}
		e = prev
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

// Close closes every cached statement, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.stmts)
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// cachedRows frees its statement for the next use when closed. (modernc
// resets a statement's rows on Close instead of finalizing it.)
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	r.cs.busy = false
	return r.Rows.Close()
}

// The column-type methods of modernc's rows, for Rows.ColumnTypes.

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	return r.Rows.(driver.RowsColumnTypeLength).ColumnTypeLength(i)
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	return r.Rows.(driver.RowsColumnTypeNullable).ColumnTypeNullable(i)
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	return r.Rows.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(i)
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}
