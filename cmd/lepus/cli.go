package main

import (
	"context"
	"io"

	"github.com/lepus-ai/lepus/internal/cli"
	"github.com/lepus-ai/lepus/internal/config"
)

// runClient runs a client subcommand (submit, tasks, task, cancel,
// credits) against a Lepus server; see internal/cli.
func runClient(ctx context.Context, cmd string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return cli.Run(ctx, cmd, args, cli.Env{
		Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr,
		// Where `lepus serve` listens by default.
		DefaultServer: "http://" + config.Config{}.WithDefaults().Addr,
	})
}

// exitCode is the process exit code for run's error: the client commands
// document theirs (cli.ExitCode); every other failure is 1.
func exitCode(err error) int {
	return cli.ExitCode(err)
}
