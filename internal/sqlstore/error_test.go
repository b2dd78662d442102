package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func TestClassify_Unavailable(t *testing.T) {
	t.Parallel()
	opErr := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"BadConn", fmt.Errorf("begin: %w", driver.ErrBadConn), lepus.EUnavailable},
		{"ConnDone", fmt.Errorf("commit: %w", sql.ErrConnDone), lepus.EUnavailable},
		{"PgxConnClosed", fmt.Errorf("insert task: %w", pgconn.ErrConnClosed), lepus.EUnavailable},
		{"UnexpectedEOF", fmt.Errorf("list: %w", io.ErrUnexpectedEOF), lepus.EUnavailable},
		{"Refused", fmt.Errorf("x: %w", syscall.ECONNREFUSED), lepus.EUnavailable},
		{"NetError", fmt.Errorf("x: %w", opErr), lepus.EUnavailable},
		{"AdminShutdown", fmt.Errorf("x: %w", &pgconn.PgError{Code: "57P01"}), lepus.EUnavailable},
		{"CannotConnectNow", fmt.Errorf("x: %w", &pgconn.PgError{Code: "57P03"}), lepus.EUnavailable},
		{"ConnectionFailure", fmt.Errorf("x: %w", &pgconn.PgError{Code: "08006"}), lepus.EUnavailable},
		{"ErrHTTPClient", fmt.Errorf("fetch: %w", &url.Error{Op: "Get", URL: "http://x", Err: opErr}), lepus.EInternal},
		{"ErrSyntax", fmt.Errorf("x: %w", &pgconn.PgError{Code: "42601"}), lepus.EInternal},
		{"ErrOther", errors.New("boom"), lepus.EInternal},
		{"DomainWins", fmt.Errorf("x: %w", lepus.Errorf(lepus.ENotFound, "task not found")), lepus.ENotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := lepus.ErrorCode(tc.err); got != tc.want {
				t.Fatalf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestMapErr_Unavailable(t *testing.T) {
	t.Parallel()
	cause := &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
	err := mapErr(cause, "get task", "task")
	var le *lepus.Error
	if !errors.As(err, &le) || le.Code != lepus.EUnavailable || le.Message != unavailableMessage {
		t.Fatalf("mapErr = %#v, want EUnavailable", err)
	}
	if !errors.Is(err, cause) {
		t.Fatalf("mapErr lost the cause: %v", err)
	}
	if again := mapErr(fmt.Errorf("outer: %w", err), "list", "task"); !errors.Is(again, cause) || lepus.ErrorCode(again) != lepus.EUnavailable {
		t.Fatalf("mapErr of a translated error = %v", again)
	}
}

// TestClassify_PostgresRefused opens a store on a port nothing listens on:
// the real pgx error of a refused connection is EUnavailable.
func TestClassify_PostgresRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, "postgres://u@"+addr+"/db?sslmode=disable&connect_timeout=5", Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open on a closed port succeeded")
	}
	if got := lepus.ErrorCode(err); got != lepus.EUnavailable {
		t.Fatalf("ErrorCode(%v) = %q, want unavailable", err, got)
	}
}

// TestClassify_SQLiteBusy takes the write lock in one connection and asks
// for it in another with no busy timeout: SQLITE_BUSY is EUnavailable.
func TestClassify_SQLiteBusy(t *testing.T) {
	t.Parallel()
	dsn := "file:" + filepath.Join(t.TempDir(), "busy.db") + "?_pragma=busy_timeout(0)&_txlock=immediate"
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	ctx := context.Background()
	a, b := open(), open()
	if _, err := a.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	tx, err := a.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	_, err = b.BeginTx(ctx, nil)
	if err == nil {
		t.Fatal("second writer got the lock")
	}
	if got := lepus.ErrorCode(fmt.Errorf("begin: %w", err)); got != lepus.EUnavailable {
		t.Fatalf("ErrorCode(%v) = %q, want unavailable", err, got)
	}
}
