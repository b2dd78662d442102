// Command lepus is the Lepus workflow backend: one binary, many subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "lepus:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `lepus — the Lepus workflow backend

Usage:
  lepus serve               run the API and the workers (embedded SQLite by default)
  lepus api                 run only the API (Postgres; scale out: any number of each)
  lepus worker              run only the workers (Postgres)
  lepus migrate             create or upgrade the database tables, then exit
  lepus token --user ID     print a bearer token for a user [--ttl 24h]
  lepus sandbox             run the provider sandbox alone [--addr 127.0.0.1:8081] [--state-dir DIR]
  lepus samples DIR         write synthetic inputs to try Lepus with (scene.png, face.png, clip.mp4, speech.wav)
  lepus submit WORKFLOW     client: upload inputs, create a task, --wait for it, --out DIR for results (--help)
  lepus tasks               client: list your tasks [--status S] [--type T] [--json]
  lepus task ID             client: show a task (summary, or --json)
  lepus cancel ID           client: cancel a task; its credits are refunded
  lepus credits             client: show your credit balance
  lepus openapi             print the OpenAPI document (JSON; --yaml for YAML) without starting a server
  lepus version             print the version

Configuration comes from environment variables; see README.md. The client
commands take --server/LEPUS_SERVER and --token/LEPUS_TOKEN; exit codes: 0 ok,
1 usage, 2 refused by the API (4xx), 3 server or network error, 4 task failed.
`

// run is the whole program; main only supplies the process's environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing subcommand")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "api":
		return runRole(ctx, roleAPI, rest, getenv, stdout, stderr)
	case "worker":
		return runRole(ctx, roleWorker, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "token":
		return runToken(rest, getenv, stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, rest, getenv, stdout, stderr)
	case "openapi":
		return runOpenAPI(rest, getenv, stdout, stderr)
	case "samples":
		return runSamples(rest, stdout, stderr)
	case "submit", "tasks", "task", "cancel", "credits":
		return runClient(ctx, cmd, rest, getenv, stdin, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "lepus", version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown subcommand %q", cmd)
	}
}
