package cli

import (
	"errors"
	"flag"
	"fmt"
)

// Exit codes of the client commands, for scripts. They are documented in
// README.md ("Command line").
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitUsage: bad flags or arguments, a missing token, an unreadable
	// local file — nothing was asked of the server, or it could not be.
	ExitUsage = 1
	// ExitAPI: the server refused the request (a 4xx problem).
	ExitAPI = 2
	// ExitServer: the server failed (5xx) or could not be reached.
	ExitServer = 3
	// ExitTask: the task ended failed or canceled.
	ExitTask = 4
)

// ExitError carries the exit code an error should end the process with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the process exit code of e.
func (e *ExitError) ExitCode() int { return e.Code }

// usageErrorf is a usage error (exit 1).
func usageErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// ExitCode returns the exit code for err: 0 for nil or a help request, the
// code an error in the chain carries, else ExitUsage.
func ExitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitUsage
}
