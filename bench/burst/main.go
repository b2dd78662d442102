// Command burst is a benchmark, not a test: it submits a burst of face
// swaps to one real `lepus serve` against a provider with a concurrency
// cap, and reports how close Lepus keeps the provider's slots busy.
//
//	go run ./bench/burst                                  # M=200, K=20, L=10s, SQLite, callbacks
//	go run ./bench/burst -callbacks=false                 # polling only
//	go run ./bench/burst -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./bench/burst -serial 20                       # 20 tasks one at a time: no contention
//	go run ./bench/burst -m 20 -k 4 -latency 1s           # smoke run
//
// It builds cmd/lepus once. Each run then starts the provider sandbox in
// this process (image latency L, image concurrency cap K), a fresh
// database, and `lepus serve` as a child in live mode pointed at the
// sandbox with KLING_IMAGE_SLOTS=K. With -callbacks (the default) Lepus is
// told a public-looking LEPUS_PUBLIC_URL that only the sandbox resolves
// (see publicHost), so it registers callback URLs; without, its URL is
// loopback and it polls. It uploads two portraits and submits M face swaps
// at once (or -serial N, one at a time), samples the sandbox's slots in
// use every 50 ms, and when all have completed prints one Markdown table
// row per run:
//
//   - makespan: first create sent → last finished_at; ratio = makespan ÷
//     (⌈M/K⌉·L) (serial: ÷ N·L). Goals ≤ 1.05 with callbacks, ≤ 1.10 without.
//   - B2: per task finished − created − L (includes the wait for a slot in
//     a burst); created → provider received the create POST (the sandbox's
//     own clock, in this process); provider ended → finished; and slot
//     handover, provider ended → the next task accepted in that slot.
//   - B6: of the 50 ms samples during which some task was created but not
//     yet accepted by the provider, the fraction with all K slots busy.
//
// Linux only. Everything it creates (the binary, data dirs, Postgres
// schemas, the child process) is removed on exit, Ctrl-C included.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/benchcli"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/load"
)

func main() { benchcli.Main("burst", run) }

// options are the command-line flags.
type options struct {
	m           int           // tasks in the burst
	k           int           // provider cap = KLING_IMAGE_SLOTS
	latency     time.Duration // L
	serial      int           // > 0: this many tasks one at a time instead of a burst
	db          string        // "" for SQLite in the data dir
	callbacks   bool
	runs        int
	concurrency int // parallel submitting clients
	timeout     time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("burst", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.m, "m", 200, "face swaps submitted at once")
	fs.IntVar(&o.k, "k", 20, "provider image concurrency cap, and Lepus's KLING_IMAGE_SLOTS")
	fs.DurationVar(&o.latency, "latency", 10*time.Second, "sandbox provider latency L (accepted to ended)")
	fs.IntVar(&o.serial, "serial", 0, "instead of a burst, run this many tasks one at a time (B2 without contention)")
	fs.StringVar(&o.db, "db", "", "postgres:// URL to run on a fresh schema there (default: SQLite in a temp dir)")
	fs.BoolVar(&o.callbacks, "callbacks", true, "let Lepus register provider callbacks (-callbacks=false: polling only)")
	fs.IntVar(&o.runs, "runs", 1, "repeat the run this many times, each on a fresh lepus, database and sandbox")
	fs.IntVar(&o.concurrency, "concurrency", 64, "parallel submitting clients (at most M)")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up on a run after this long (default 3× the ideal makespan + 3m)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.m < 1 || o.k < 1 || o.latency <= 0 || o.runs < 1 || o.concurrency < 1 || o.serial < 0 {
		return o, errors.New("-m, -k, -latency, -runs and -concurrency must be positive, -serial not negative")
	}
	o.concurrency = min(o.concurrency, o.m)
	if o.timeout == 0 {
		o.timeout = 3*o.ideal() + 3*time.Minute
	}
	return o, nil
}

// tasks is how many tasks a run submits.
func (o options) tasks() int {
	if o.serial > 0 {
		return o.serial
	}
	return o.m
}

// ideal is the makespan with zero overhead: ⌈M/K⌉ waves of L, or N·L
// one at a time.
func (o options) ideal() time.Duration {
	if o.serial > 0 {
		return time.Duration(o.serial) * o.latency
	}
	return time.Duration((o.m+o.k-1)/o.k) * o.latency
}

// run builds lepus once, then does o.runs runs, printing a row after each.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}
	tmp, err := os.MkdirTemp("", "lepus-burst-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logf("building cmd/lepus")
	bin, rev, err := lepusproc.Build(ctx, tmp)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "burst: %s %s/%s, nproc %d, load average %s at start; lepus at commit %s; LEPUS_WORKERS and poll interval default\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loadAvg(), rev)
	printHeader(stdout)
	for i := range o.runs {
		r, err := runOnce(ctx, o, bin, tmp, i+1, logf)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		row, err := r.measure(o)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Fprintln(stdout, row)
	}
	return nil
}

// loadAvg is /proc/loadavg's 1, 5 and 15 minute averages.
var loadAvg = load.Average

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
