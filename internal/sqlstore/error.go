package sqlstore

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Kinds of database errors the store reacts to.
const (
	errOther = iota
	errNoRows
	errUnique
	errForeignKey
	errUnavailable // the database cannot be reached right now; retry later
)

// The store wraps driver errors with fmt.Errorf at many call sites, so
// connection failures are named where they are judged: lepus.ErrorCode asks
// this classifier about any error that carries no *lepus.Error. See
// lepus.RegisterClassifier for why this is a registry.
func init() {
	lepus.RegisterClassifier(func(err error) string {
		if classify(err) == errUnavailable {
			return lepus.EUnavailable
		}
		return ""
	})
}

// lockConflict reports a Postgres deadlock or serialization failure: the
// transaction lost a race for locks and may simply be run again.
func lockConflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// classify is the one place that knows both drivers' error types.
func classify(err error) int {
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return errUnique
		case "23503": // foreign_key_violation
			return errForeignKey
		}
		if pgUnavailable(pgErr.Code) {
			return errUnavailable
		}
		return errOther
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return errUnique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return errForeignKey
		}
		// SQLITE_BUSY ("database is locked") is returned only after
		// busy_timeout expired; SQLITE_LOCKED is its shared-cache twin.
		switch liteErr.Code() & 0xff { // primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return errUnavailable
		}
		return errOther
	}
	if connFailed(err) {
		return errUnavailable
	}
	return errOther
}

// pgUnavailable reports whether a SQLSTATE means the server cannot serve us
// now: class 08 (connection exception), admin/crash shutdown, "the database
// system is starting up", or too many connections.
func pgUnavailable(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300":
		return true
	case "40P01", "40001": // a deadlock's victim, a serialization failure: the same request may simply be sent again
		return true
	}
	return strings.HasPrefix(code, "08")
}

// connFailed reports whether err is a connection-level failure: the dial or
// the socket failed, not the SQL. An HTTP client error (*url.Error) is not
// ours even though it is a net.Error: lepus.ErrorCode sees every error of a
// request, and an outbound fetch failing must not read as a database outage.
func connFailed(err error) bool {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		// Any failure to connect, including a connect timeout (the
		// deadline is wrapped inside) and a PgError sent during startup.
		return true
	}
	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return true
	}
	return false
}

// unavailableMessage is what a client may read of a database outage.
const unavailableMessage = "the database is unavailable"

// mapErr turns missing rows and constraint violations into lepus error kinds
// naming what (e.g. "task"), and connection failures into EUnavailable that
// keeps the cause for logs; other errors are wrapped with op.
func mapErr(err error, op, what string) error {
	if err == nil {
		return nil
	}
	var le *lepus.Error
	switch classify(err) {
	case errNoRows:
		return lepus.Errorf(lepus.ENotFound, "%s not found", what)
	case errUnique:
		return lepus.Errorf(lepus.EConflict, "%s already exists", what)
	case errForeignKey:
		return lepus.Errorf(lepus.EInvalid, "%s refers to a missing row", what)
	case errUnavailable:
		if errors.As(err, &le) {
			return err // already translated by an inner mapErr
		}
		return &lepus.Error{Code: lepus.EUnavailable, Message: unavailableMessage, Err: fmt.Errorf("%s: %w", op, err)}
	}
	if errors.As(err, &le) || errors.Is(err, lepus.ErrTaskEnded) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
