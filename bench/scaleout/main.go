// Command scaleout is a benchmark, not a test: it runs the same burst of
// face swaps on one `lepus serve` and on N `lepus api` + W `lepus worker`
// processes sharing one Postgres database, and prints the two side by side.
//
//	go run ./bench/scaleout                              # M=200, K=20, L=10s, 2 api + 2 worker
//	go run ./bench/scaleout -apis 3 -workers 4 -runs 3
//	go run ./bench/scaleout -m 10 -k 4 -latency 1s       # smoke run
//
// It builds cmd/lepus once. Each run of a layout gets a fresh Postgres
// schema, the provider sandbox in this process (image latency L, image
// concurrency cap K, KLING_IMAGE_SLOTS=K) and its own processes: for the
// scale-out layout `lepus migrate` first, then the APIs and workers, all
// on one blob store (a shared file:// directory unless -blob names a
// bucket). Lepus polls the provider (no callbacks: a worker has no public
// URL of its own here), the same in both layouts. It uploads two portraits
// through each API, sends M face swaps from -concurrency clients spread
// round-robin over the APIs, waits until all have completed, checks that
// each was submitted to the provider exactly once, and prints one Markdown
// row per layout and run:
//
//   - makespan: first create sent → last finished_at; ratio = makespan ÷
//     ⌈M/K⌉·L, the makespan with zero overhead.
//   - creates/s: M ÷ (first create sent → last create answered), the rate
//     at which the API side accepts a burst.
//   - finished − created p50 / p99, per task: with M > K it includes the
//     wait for a provider slot.
//
// then, per run, the scale-out layout's makespan and create rate as a
// multiple of the single process's. Linux only. Everything it creates
// (the binary, data dirs, schemas, children) is removed on exit, Ctrl-C
// included. Run it on a quiet machine: the two layouts share its cores.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/benchcli"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/load"
)

func main() { benchcli.Main("scaleout", run) }

// options are the command-line flags.
type options struct {
	m           int           // tasks in the burst
	k           int           // provider cap = KLING_IMAGE_SLOTS
	latency     time.Duration // L
	db          string        // Postgres server URL; each run gets a fresh schema
	blob        string        // LEPUS_BLOB_URL; "" for a shared file:// directory
	apis        int
	workers     int
	runs        int
	concurrency int // parallel submitting clients, over all APIs
	timeout     time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("scaleout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.m, "m", 200, "face swaps submitted at once")
	fs.IntVar(&o.k, "k", 20, "provider image concurrency cap, and Lepus's KLING_IMAGE_SLOTS")
	fs.DurationVar(&o.latency, "latency", 10*time.Second, "sandbox provider latency L (accepted to ended)")
	fs.StringVar(&o.db, "db", cmp.Or(os.Getenv("LEPUS_TEST_DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"postgres:// URL of the server; each run uses a fresh schema there")
	fs.StringVar(&o.blob, "blob", "", "LEPUS_BLOB_URL shared by all processes (default: a file:// directory in the run's temp dir)")
	fs.IntVar(&o.apis, "apis", 2, "lepus api processes in the scale-out layout")
	fs.IntVar(&o.workers, "workers", 2, "lepus worker processes in the scale-out layout")
	fs.IntVar(&o.runs, "runs", 1, "repeat both layouts this many times, each on fresh processes, schema and sandbox")
	fs.IntVar(&o.concurrency, "concurrency", 64, "parallel submitting clients (at most M), spread over the APIs")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up on a run after this long (default 3× the ideal makespan + 3m)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.m < 1 || o.k < 1 || o.latency <= 0 || o.runs < 1 || o.concurrency < 1 || o.apis < 1 || o.workers < 1 {
		return o, errors.New("-m, -k, -latency, -runs, -concurrency, -apis and -workers must be positive")
	}
	if !strings.HasPrefix(o.db, "postgres://") && !strings.HasPrefix(o.db, "postgresql://") {
		return o, fmt.Errorf("-db %q: a postgres:// URL is required (the API and worker roles share Postgres)", o.db)
	}
	o.concurrency = min(o.concurrency, o.m)
	if o.timeout == 0 {
		o.timeout = 3*o.ideal() + 3*time.Minute
	}
	return o, nil
}

// ideal is the makespan with zero overhead: ⌈M/K⌉ waves of L.
func (o options) ideal() time.Duration {
	return time.Duration((o.m+o.k-1)/o.k) * o.latency
}

// run builds lepus once, then runs both layouts o.runs times, printing a
// row after each and the comparison after each pair.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}
	tmp, err := os.MkdirTemp("", "lepus-scaleout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logf("building cmd/lepus")
	bin, rev, err := lepusproc.Build(ctx, tmp)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scaleout: %s %s/%s, nproc %d, load average %s at start; lepus at commit %s; Postgres; polling; LEPUS_WORKERS default per process\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loadAvg(), rev)
	printHeader(stdout)
	var compare []string
	for i := range o.runs {
		var pair [2]*measured
		for j, l := range []layout{{apis: 0, workers: 0}, {apis: o.apis, workers: o.workers}} {
			r, err := runOnce(ctx, o, l, bin, tmp, i+1, logf)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", i+1, l, err)
			}
			m, err := r.measure(o)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", i+1, l, err)
			}
			pair[j] = m
			fmt.Fprintln(stdout, m.row(o, l, i+1))
		}
		compare = append(compare, fmt.Sprintf("run %d: %s ÷ 1 serve: makespan ×%.3f, creates/s ×%.2f, finished − created p50 ×%.3f",
			i+1, layout{apis: o.apis, workers: o.workers}, pair[1].makespan.Seconds()/pair[0].makespan.Seconds(),
			pair[1].createRate/pair[0].createRate, pair[1].p50.Seconds()/pair[0].p50.Seconds()))
	}
	fmt.Fprintln(stdout)
	for _, c := range compare {
		fmt.Fprintln(stdout, c)
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
