// Command create is a benchmark, not a test: it measures how fast one real
// `lepus serve` accepts face swaps against how fast its database can do a
// create's writes at all, in one run on one database kind.
//
//	go run ./bench/create                                 # SQLite, 64 clients, 5,000 requests per phase
//	go run ./bench/create -n 300 -warmup 50               # quick smoke run
//	go run ./bench/create -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// It builds cmd/lepus, then runs three phases one after another, each with
// the same closed-loop load of -clients callers (-warmup requests first,
// not counted, then -n), and prints requests/s, p50 and p99 of each:
//
//  1. no-op: an in-process net/http server that decodes the face-swap JSON
//     and answers a small 202, posted to by the same HTTP client as Lepus:
//     what the load generator and loopback cost.
//  2. DB work alone, the limit: on a fresh database of the same kind,
//     opened and migrated as Lepus opens it, each request is one
//     transaction of a create's writes: River InsertTx, INSERT task,
//     the debit of one user's credit row, INSERT credit_ledger.
//  3. Lepus: `lepus serve` on a fresh database, Kling on the in-process
//     sandbox (1 h latency), River's queue paused through the River UI
//     API so the process does only creates; POST /kling/face-swap with a
//     unique Idempotency-Key each, expecting 202. Afterwards every job
//     must still be available: the pause held.
//
// Goals (printed, never an exit status): Lepus ≥ 0.5 × the limit's
// requests/s, and Lepus's p99 ≤ 3 × clients ÷ limit. Linux only. Everything
// it creates (the binary, data dirs, Postgres schemas, the child process)
// is removed on exit, Ctrl-C included.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/benchcli"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/load"
)

func main() { benchcli.Main("create", run) }

// options are the command-line flags.
type options struct {
	db      string // "" for SQLite in the temp dir
	clients int
	n       int // requests per phase, counted
	warmup  int // requests per phase before those, not counted
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.db, "db", "", "postgres:// URL to run on fresh schemas there (default: SQLite in a temp dir)")
	fs.IntVar(&o.clients, "clients", 64, "parallel keep-alive clients (DB phase: parallel transactions)")
	fs.IntVar(&o.n, "n", 5000, "requests per phase, counted")
	fs.IntVar(&o.warmup, "warmup", 200, "requests per phase before the counted ones")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.clients < 1 || o.n < 1 || o.warmup < 0 {
		return o, errors.New("-clients and -n must be positive, -warmup not negative")
	}
	return o, nil
}

// run is the whole benchmark. Each phase removes what it started before
// the next begins; the temp dir (with the binary) goes last.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}
	rep := report{o: o, load: load.Average(), database: "SQLite (a file in the temp dir)"}
	if o.db != "" {
		rep.database = "Postgres (a fresh schema per phase)"
	}

	tmp, err := os.MkdirTemp("", "lepus-create-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logf("building cmd/lepus")
	bin, rev, err := lepusproc.Build(ctx, tmp)
	if err != nil {
		return err
	}
	rep.rev = rev

	logf("phase 1: no-op server")
	if rep.noop, err = runNoop(ctx, o); err != nil {
		return fmt.Errorf("no-op: %w", err)
	}
	logf("phase 2: DB work alone")
	if rep.limit, err = runDBWork(ctx, o, tmp); err != nil {
		return fmt.Errorf("DB work: %w", err)
	}
	logf("phase 3: lepus serve")
	if rep.lepus, rep.paused, err = runLepus(ctx, o, bin, tmp, logf); err != nil {
		return fmt.Errorf("lepus: %w", err)
	}
	rep.print(stdout)
	return nil
}

// warmThenRun sends o.warmup requests, calls between (if set), then sends
// o.n more and returns their measurements. do's i counts across both, so
// it can key each request uniquely.
func warmThenRun(ctx context.Context, o options, do func(ctx context.Context, i int) error, between func(ctx context.Context) error) (load.Result, error) {
	if _, err := load.Run(ctx, o.warmup, o.clients, do); err != nil {
		return load.Result{}, fmt.Errorf("warm-up: %w", err)
	}
	if between != nil {
		if err := between(ctx); err != nil {
			return load.Result{}, err
		}
	}
	return load.Run(ctx, o.n, o.clients, func(ctx context.Context, i int) error { return do(ctx, o.warmup+i) })
}
