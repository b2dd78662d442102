// Command inflight is a benchmark, not a test: it holds many face swaps
// (or image-to-video tasks) in flight at once on one real `lepus serve` and
// reports what that costs.
//
//	go run ./bench/inflight                          # 1,000 swaps, 60 s provider latency, SQLite
//	go run ./bench/inflight -n 50 -latency 5s        # quick smoke run
//	go run ./bench/inflight -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./bench/inflight -workflow image_to_video -latency 900s -poll 10s ...
//
// A face swap may spend at most 60 polls at the provider (300 s at the
// default 5 s poll interval, 600 s, its soft limit, at -poll 10s); an
// image-to-video task 120 polls and has no soft limit, so it can wait long
// enough for 100,000 submissions on a small machine.
//
// It builds cmd/lepus, runs the provider sandbox in this process (no
// concurrency cap, image latency -latency), starts `lepus serve` as a child
// process in live mode pointed at the sandbox, uploads two portraits, then
// submits n tasks with -concurrency parallel clients. Every 500 ms it
// samples the child's RSS and CPU (/proc), goroutines (LEPUS_DEBUG_ADDR's
// /debug/vars), River jobs in state running and task statuses (a read-only
// connection to the database) and the sandbox's running tasks, until every
// task has completed. It prints a Markdown results table (BENCHMARKS.md).
//
// Linux only (/proc). Everything it creates (the binary, the data dir, the
// Postgres schema, the child process) is removed on exit, Ctrl-C included.
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

	"github.com/lepus-ai/lepus/bench/internal/apiclient"
	"github.com/lepus-ai/lepus/bench/internal/benchcli"
	"github.com/lepus-ai/lepus/bench/internal/benchdb"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/provider"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

func main() { benchcli.Main("inflight", run) }

// options are the command-line flags.
type options struct {
	n           int
	latency     time.Duration
	concurrency int
	poll        time.Duration // 0: the workflow's own poll interval
	db          string        // "" for SQLite in the data dir
	timeout     time.Duration
	renderEach  bool // let the sandbox render every result (see provider)
	workflow    string
}

// The workflows -workflow accepts.
const (
	workflowFaceSwap     = "face_swap"
	workflowImageToVideo = "image_to_video"
)

// defaultPoll is the face swap workflow's provider poll interval, used when
// -poll is not given (internal/workflow/faceswap.go).
const defaultPoll = 5 * time.Second

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("inflight", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 1000, "tasks to hold in flight at once")
	fs.StringVar(&o.workflow, "workflow", workflowFaceSwap, "face_swap or image_to_video")
	fs.DurationVar(&o.latency, "latency", 60*time.Second, "sandbox provider latency (submit to result)")
	fs.IntVar(&o.concurrency, "concurrency", 64, "parallel submitting clients")
	fs.DurationVar(&o.poll, "poll", 0, "override Lepus's provider poll interval (default: the workflow's 5s)")
	fs.StringVar(&o.db, "db", "", "postgres:// URL to run on a fresh schema there (default: SQLite in a temp dir)")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up after this long (default 3×latency + 3m)")
	fs.BoolVar(&o.renderEach, "render-each", false, "let the sandbox render every result instead of serving the first one for all")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.n < 1 || o.concurrency < 1 || o.latency <= 0 {
		return o, errors.New("-n, -concurrency and -latency must be positive")
	}
	if o.workflow != workflowFaceSwap && o.workflow != workflowImageToVideo {
		return o, fmt.Errorf("-workflow %q: want %s or %s", o.workflow, workflowFaceSwap, workflowImageToVideo)
	}
	if o.timeout == 0 {
		o.timeout = 3*o.latency + 3*time.Minute
	}
	return o, nil
}

// pollInterval is the P of the run.
func (o options) pollInterval() time.Duration {
	if o.poll > 0 {
		return o.poll
	}
	return defaultPoll
}

// run is the whole benchmark. Cleanups are deferred in reverse order of
// creation: the child process dies first, then the sandbox, then the
// Postgres schema, then the temp dir.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}

	tmp, err := os.MkdirTemp("", "lepus-inflight-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logf("building cmd/lepus")
	bin, rev, err := lepusproc.Build(ctx, tmp)
	if err != nil {
		return err
	}
	prov, err := provider.Start(provider.Config{Sandbox: sandbox.Config{ImageLatency: o.latency, VideoLatency: o.latency}, RenderEach: o.renderEach}) // Concurrency 0: no cap
	if err != nil {
		return err
	}
	defer prov.Close()
	db, err := benchdb.Open(ctx, o.db, tmp)
	if err != nil {
		return err
	}
	defer db.Close()

	secret := lepusproc.RandomHex(32)
	proc, err := lepusproc.Start(ctx, bin, lepusEnv(o, tmp, db.LepusURL, prov.URL, secret), tmp)
	if err != nil {
		return err
	}
	defer proc.Stop()
	logf("lepus pid %d at %s, debug at http://%s, sandbox at %s, logs in %s", proc.PID, proc.URL, proc.DebugAddr, prov.URL, proc.LogPath)

	api, err := apiclient.New(proc.URL, secret, o.concurrency)
	if err != nil {
		return err
	}
	scene, face, err := api.UploadPortraits(ctx)
	if err != nil {
		return err
	}

	s := newSampler(proc, db, prov)
	sampling, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go s.loop(sampling, 500*time.Millisecond)
	if err := sleep(ctx, 2*time.Second); err != nil { // idle: the baseline
		return err
	}
	base := s.last()
	if base.at.IsZero() {
		return fmt.Errorf("no sample of the idle child: %v", s.err())
	}
	var live liveMem
	if live.idleHeapKB, live.idleStackKB, err = s.liveHeap(ctx); err != nil {
		return err
	}

	logf("submitting %d %s tasks with %d clients", o.n, o.workflow, o.concurrency)
	cpu0, hcpu0, pg0 := lepusCPU(proc), harnessCPU(), postgresCPU()
	sub, err := submitAll(ctx, api, o.workflow, o.n, o.concurrency, scene, face)
	if err != nil {
		return err
	}
	logf("submitted in %s (%.0f req/s); waiting for completion", sub.span().Round(time.Millisecond), sub.rps())
	// Three quarters into the provider latency every task still waits:
	// measure what lepus keeps for them.
	if err := sleep(ctx, time.Until(sub.first.Add(o.latency*3/4))); err != nil {
		return err
	}
	if s.last().sandboxRunning == o.n {
		if live.waitHeapKB, live.waitStackKB, err = s.liveHeap(ctx); err != nil {
			return err
		}
	}
	if err := s.waitDone(ctx, o.n, logf); err != nil {
		if failed, lerr := api.ListTasks(context.WithoutCancel(ctx), "failed"); lerr == nil && len(failed) > 0 && failed[0].Error != nil {
			err = fmt.Errorf("%w; first failure: %s: %s", err, failed[0].Error.Code, failed[0].Error.Message)
		}
		return err
	}
	d := runData{o: o, database: "SQLite (file in the data dir)", base: base, live: live, sub: sub,
		lepusCPU: lepusCPU(proc) - cpu0, harnessCPU: harnessCPU() - hcpu0, cdn: prov.CDNTimes()}
	if o.db != "" {
		d.postgresCPU = postgresCPU() - pg0
	}
	stopSampling()
	s.wait()
	d.samples = s.all()
	if o.db != "" {
		d.database = "Postgres (fresh schema)"
	}
	if d.tasks, err = api.ListTasks(ctx, "completed"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "inflight: %s %s/%s, %d CPUs; lepus at commit %s, LEPUS_WORKERS default (50)\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), rev)
	if err := d.print(stdout); err != nil {
		return err
	}
	if err := s.err(); err != nil {
		fmt.Fprintf(stdout, "\n%v\n", err)
	}
	if tail := proc.LogTail(20); tail != "" {
		fmt.Fprintf(stdout, "\nlepus logged at warn or above (last lines):\n%s\n", tail)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
