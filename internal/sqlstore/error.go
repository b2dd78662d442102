package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"

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
)

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
	}
	return errOther
}

// mapErr turns missing rows and constraint violations into lepus error kinds
// naming what (e.g. "task"); other errors are wrapped with op.
func mapErr(err error, op, what string) error {
	if err == nil {
		return nil
	}
	switch classify(err) {
	case errNoRows:
		return lepus.Errorf(lepus.ENotFound, "%s not found", what)
	case errUnique:
		return lepus.Errorf(lepus.EConflict, "%s already exists", what)
	case errForeignKey:
		return lepus.Errorf(lepus.EInvalid, "%s refers to a missing row", what)
	}
	var le *lepus.Error
	if errors.As(err, &le) || errors.Is(err, lepus.ErrTaskEnded) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
