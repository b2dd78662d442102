package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/apiclient"
	"github.com/lepus-ai/lepus/bench/internal/benchdb"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/provider"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// layout is how Lepus runs: one `lepus serve` (apis == 0), or apis API
// processes and workers worker processes.
type layout struct{ apis, workers int }

func (l layout) String() string {
	if l.apis == 0 {
		return "1 serve"
	}
	return fmt.Sprintf("%d api + %d worker", l.apis, l.workers)
}

// result is what one run measured.
type result struct {
	load       string    // load average at the start of the run
	first      time.Time // first create sent
	lastCreate time.Time // last create answered
	tasks      []apiclient.TaskView
	creates    int // create POSTs the provider received
	busy       int // of which it answered 1303
}

// runOnce runs one burst on layout l with a fresh sandbox, schema and
// processes, all removed again when it returns.
func runOnce(ctx context.Context, o options, l layout, bin, root string, index int, logf func(string, ...any)) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	tmp, err := os.MkdirTemp(root, fmt.Sprintf("run%d-", index))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	r := &result{load: loadAvg()}

	prov, err := provider.Start(provider.Config{Sandbox: sandbox.Config{ImageLatency: o.latency, ImageConcurrency: o.k}})
	if err != nil {
		return nil, err
	}
	defer prov.Close()
	db, err := benchdb.Open(ctx, o.db, tmp)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	secret := lepusproc.RandomHex(32)
	blobURL := o.blob
	if blobURL == "" {
		blobURL = "file://" + filepath.Join(tmp, "blobs")
	}
	env := append(lepusproc.BaseEnv(),
		"LEPUS_DATABASE_URL="+db.LepusURL,
		"LEPUS_BLOB_URL="+blobURL,
		"LEPUS_JWT_SECRET="+secret,
		"LEPUS_ALLOW_PRIVATE_URLS=1",
		"LEPUS_STARTING_CREDITS=100000000",
		"LEPUS_LOG_LEVEL=warn",
		"LEPUS_RATE_LIMIT=0", "LEPUS_MAX_IN_FLIGHT=0", // a burst from one user is the point
		"KLING_ACCESS_KEY=sandbox-ak", "KLING_SECRET_KEY=sandbox-sk", "KLING_BASE_URL="+prov.URL,
		"KLING_IMAGE_SLOTS="+strconv.Itoa(o.k),
	)

	procs, apiAddrs, err := startLayout(ctx, l, bin, env, tmp)
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	if err != nil {
		return nil, err
	}
	logf("run %d, %s: %d processes up, sandbox at %s, logs in %s", index, l, len(procs), prov.URL, tmp)

	// Each API gets its own uploads (its upload URLs name it) and an equal
	// share of the submitting clients.
	var targets []target
	for _, addr := range apiAddrs {
		api, err := apiclient.New("http://"+addr, secret, o.concurrency)
		if err != nil {
			return nil, err
		}
		scene, face, err := api.UploadPortraits(ctx)
		if err != nil {
			return nil, err
		}
		targets = append(targets, target{api, scene, face})
	}
	logf("run %d, %s: submitting %d face swaps with %d clients", index, l, o.m, o.concurrency)
	if r.first, r.lastCreate, err = submitAll(ctx, targets, o.m, o.concurrency, index); err != nil {
		return nil, err
	}
	logf("run %d, %s: submitted in %s; waiting for completion", index, l, r.lastCreate.Sub(r.first).Round(time.Millisecond))
	w := &waiter{api: targets[0].api, procs: procs, prov: prov, logf: logf}
	if r.tasks, err = w.all(ctx, o.m); err != nil {
		return nil, err
	}
	for _, t := range r.tasks {
		if n := prov.SB.Submissions(t.ID + "-image"); n != 1 {
			return nil, fmt.Errorf("task %s was submitted to the provider %d times, want 1", t.ID, n)
		}
	}
	st := prov.SB.Stats()
	r.creates, r.busy = st.Attempts, st.Busy
	for i, p := range procs {
		if tail := p.LogTail(10); tail != "" {
			logf("run %d, %s: process %d logged at warn or above (last lines):\n%s", index, l, i, tail)
		}
	}
	return r, nil
}

// startLayout starts l's processes (after `lepus migrate` for the roles,
// which refuse an unmigrated database) and returns them and the APIs'
// addresses. On error the processes started so far are returned too.
func startLayout(ctx context.Context, l layout, bin string, env []string, tmp string) ([]*lepusproc.Proc, []string, error) {
	type child struct{ role, name string }
	var children []child
	if l.apis == 0 {
		children = append(children, child{"serve", "serve"})
	} else {
		migrate := exec.CommandContext(ctx, bin, "migrate")
		migrate.Env = append(env, "LEPUS_DATA_DIR="+filepath.Join(tmp, "data-migrate"))
		if out, err := migrate.CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("lepus migrate: %w\n%s", err, out)
		}
		for i := range l.apis {
			children = append(children, child{"api", fmt.Sprintf("api%d", i+1)})
		}
		for i := range l.workers {
			children = append(children, child{"worker", fmt.Sprintf("worker%d", i+1)})
		}
	}
	var procs []*lepusproc.Proc
	var addrs []string
	for _, c := range children {
		addr, err := lepusproc.FreeAddr()
		if err != nil {
			return procs, nil, err
		}
		// lepus api and lepus worker need LEPUS_PUBLIC_URL: an API's is its
		// own address, a worker's the first API's (its webhook links).
		public := "http://" + addr
		if c.role == "worker" && len(addrs) > 0 {
			public = "http://" + addrs[0]
		}
		cenv := append(env[:len(env):len(env)], "LEPUS_ADDR="+addr, "LEPUS_DATA_DIR="+filepath.Join(tmp, "data-"+c.name),
			"LEPUS_PUBLIC_URL="+public)
		p, err := lepusproc.StartRole(ctx, bin, c.role, "lepus-"+c.name+".log", cenv, tmp)
		if err != nil {
			return procs, nil, fmt.Errorf("%s: %w", c.name, err)
		}
		procs = append(procs, p)
		if c.role != "worker" {
			addrs = append(addrs, addr)
		}
	}
	return procs, addrs, nil
}

// target is one API and the inputs uploaded through it.
type target struct {
	api         *apiclient.Client
	scene, face string
}

// submitAll sends n face swaps from conc clients, client i to API i mod
// len(targets), each with its own Idempotency-Key. It returns when the
// first was sent and when the last was answered, and stops at the first
// error.
func submitAll(ctx context.Context, targets []target, n, conc, run int) (first, last time.Time, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for c := range conc {
		tg := targets[c%len(targets)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := tg.api.FaceSwap(ctx, fmt.Sprintf("scaleout-%d-%d", run, i), tg.scene, tg.face); err != nil {
					cancel(fmt.Errorf("submit %d: %w", i, err))
					return
				}
			}
		}()
	}
	first = time.Now()
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return first, time.Now(), context.Cause(ctx)
}

// waiter waits for the tasks to complete, reading the in-process sandbox
// (free for Lepus) until the provider has ended them, and only then the
// API.
type waiter struct {
	api   *apiclient.Client
	procs []*lepusproc.Proc
	prov  *provider.Provider
	logf  func(string, ...any)
}

// check fails if a process exited or the provider failed a task.
func (w *waiter) check() error {
	for i, p := range w.procs {
		select {
		case <-p.Exited():
			return fmt.Errorf("process %d exited:\n%s", i, p.LogTail(30))
		default:
		}
	}
	if st := w.prov.SB.Stats(); st.Failed > 0 {
		return fmt.Errorf("the provider failed %d task(s)", st.Failed)
	}
	return nil
}

// all waits until n tasks have completed and returns them. A failed or
// canceled task ends the run: every task must complete.
func (w *waiter) all(ctx context.Context, n int) ([]apiclient.TaskView, error) {
	lastLook := time.Now()
	for {
		if err := w.check(); err != nil {
			return nil, err
		}
		st := w.prov.SB.Stats()
		if st.Succeeded >= n {
			done, err := w.api.ListTasks(ctx, "completed")
			if err != nil {
				return nil, err
			}
			if len(done) >= n {
				return done, nil
			}
		}
		if time.Since(lastLook) >= 5*time.Second {
			failed, err := w.api.ListTasks(ctx, "failed")
			if err != nil {
				return nil, err
			}
			if len(failed) > 0 {
				return nil, taskError(failed[0])
			}
			w.logf("provider: %d succeeded of %d, %d running, slots in use %d, 1303s %d", st.Succeeded, n, st.Running, st.ImageSlotsInUse, st.Busy)
			lastLook = time.Now()
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, fmt.Errorf("waiting for completion (%d of %d ended at the provider): %w", st.Succeeded, n, err)
		}
	}
}

func taskError(t apiclient.TaskView) error {
	if t.Error != nil {
		return fmt.Errorf("task %s %s: %s: %s", t.ID, t.Status, t.Error.Code, t.Error.Message)
	}
	return fmt.Errorf("task %s %s", t.ID, t.Status)
}
