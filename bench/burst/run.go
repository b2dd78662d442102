package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/apiclient"
	"github.com/lepus-ai/lepus/bench/internal/benchdb"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/load"
	"github.com/lepus-ai/lepus/bench/internal/provider"
)

// result is what one run measured, handed to the report.
type result struct {
	index    int
	load     string    // load average at the start of the run
	first    time.Time // first create sent
	tasks    []apiclient.TaskView
	prov     map[string]providerTask // by provider task id
	received map[string]time.Time    // create POST received, by external_task_id
	creates  int                     // create POSTs the sandbox received
	busy     int                     // of which answered 1303
	slots    []slotSample
}

// lepusEnv is the child's environment: ours without any LEPUS_, KLING_ or
// SANDBOX_ variable, plus the benchmark's settings.
func lepusEnv(o options, tmp, addr, dbURL, providerURL, secret string) []string {
	env := append(lepusproc.SandboxEnv(tmp, dbURL, providerURL, secret),
		"LEPUS_ADDR="+addr,
		"LEPUS_STARTING_CREDITS=100000000",
		"KLING_IMAGE_SLOTS="+strconv.Itoa(o.k),
	)
	if o.callbacks {
		_, port, _ := net.SplitHostPort(addr)
		env = append(env, "LEPUS_PUBLIC_URL=http://"+net.JoinHostPort(publicHost, port))
	}
	return env
}

// runOnce runs one burst (or serial series) on a fresh sandbox, database
// and lepus, all removed again when it returns.
func runOnce(ctx context.Context, o options, bin, root string, index int, logf func(string, ...any)) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	tmp, err := os.MkdirTemp(root, fmt.Sprintf("run%d-", index))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	r := &result{index: index, load: loadAvg()}

	clog := &createLog{received: map[string]time.Time{}}
	var cbs callbackCount
	prov, err := startProvider(o, clog, &cbs)
	if err != nil {
		return nil, err
	}
	defer prov.Close()
	db, err := benchdb.Open(ctx, o.db, tmp)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	addr, err := lepusproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	secret := lepusproc.RandomHex(32)
	proc, err := lepusproc.Start(ctx, bin, lepusEnv(o, tmp, addr, db.LepusURL, prov.URL, secret), tmp)
	if err != nil {
		return nil, err
	}
	defer proc.Stop()
	logf("run %d: lepus pid %d at http://%s (says %s), sandbox at %s, logs in %s", index, proc.PID, addr, proc.URL, prov.URL, proc.LogPath)

	// The API is reached on loopback whatever LEPUS_PUBLIC_URL says.
	api, err := apiclient.New("http://"+addr, secret, o.concurrency)
	if err != nil {
		return nil, err
	}
	scene, face, err := api.UploadPortraits(ctx)
	if err != nil {
		return nil, err
	}
	if o.callbacks != strings.Contains(scene, publicHost) {
		return nil, fmt.Errorf("upload URL %q: lepus did not take the public URL as configured", scene)
	}

	sampling, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	slotsCh := make(chan []slotSample, 1)
	go sampleSlots(sampling, prov.SB, 50*time.Millisecond, slotsCh)

	n := o.tasks()
	w := &waiter{api: api, proc: proc, prov: prov, logf: logf}
	if o.serial > 0 {
		logf("run %d: %d face swaps one at a time", index, n)
		r.first = time.Now()
		for i := range n {
			id, err := api.FaceSwap(ctx, fmt.Sprintf("burst-%d-%d", index, i), scene, face)
			if err != nil {
				return nil, err
			}
			if err := w.one(ctx, id, i+1); err != nil {
				return nil, err
			}
		}
	} else {
		logf("run %d: submitting %d face swaps with %d clients", index, n, o.concurrency)
		if r.first, err = submitAll(ctx, api, n, o.concurrency, index, scene, face); err != nil {
			return nil, err
		}
		logf("run %d: submitted in %s; waiting for completion", index, time.Since(r.first).Round(time.Millisecond))
	}
	if r.tasks, err = w.all(ctx, n); err != nil {
		return nil, err
	}
	stopSampling()
	r.slots = <-slotsCh
	if r.prov, err = providerTasks(ctx, prov.URL); err != nil {
		return nil, fmt.Errorf("list provider tasks: %w", err)
	}
	r.received, r.creates = clog.snapshot()
	r.busy = prov.SB.Stats().Busy
	// Each task gets two callbacks (processing, succeed) when registered.
	cbOK, cbFailed := cbs.get()
	logf("run %d: callbacks posted by the sandbox: %d answered 2xx, %d failed", index, cbOK, cbFailed)
	if o.callbacks && (cbOK < n || cbFailed > 0) {
		return nil, fmt.Errorf("callbacks on, but %d of the sandbox's callbacks were answered and %d failed", cbOK, cbFailed)
	}
	if !o.callbacks && cbOK+cbFailed > 0 {
		return nil, fmt.Errorf("callbacks off, but the sandbox posted %d callbacks", cbOK+cbFailed)
	}
	if tail := proc.LogTail(10); tail != "" {
		logf("run %d: lepus logged at warn or above (last lines):\n%s", index, tail)
	}
	return r, nil
}

// submitAll sends n face swaps from conc clients, each with its own
// Idempotency-Key, and returns when the first was sent. It stops at the
// first error.
func submitAll(ctx context.Context, api *apiclient.Client, n, conc, run int, scene, face string) (time.Time, error) {
	res, err := load.Run(ctx, n, conc, func(ctx context.Context, i int) error {
		if _, err := api.FaceSwap(ctx, fmt.Sprintf("burst-%d-%d", run, i), scene, face); err != nil {
			return fmt.Errorf("submit %d: %w", i, err)
		}
		return nil
	})
	return res.First, err
}

// waiter waits for tasks to complete, reading the in-process sandbox (free
// for Lepus) until the provider has ended them, and only then the API.
type waiter struct {
	api  *apiclient.Client
	proc *lepusproc.Proc
	prov *provider.Provider
	logf func(string, ...any)
}

// check fails if lepus exited or the provider failed a task.
func (w *waiter) check() error {
	select {
	case <-w.proc.Exited():
		return fmt.Errorf("lepus exited:\n%s", w.proc.LogTail(30))
	default:
	}
	if st := w.prov.SB.Stats(); st.Failed > 0 {
		return fmt.Errorf("the provider failed %d task(s)", st.Failed)
	}
	return nil
}

// one waits until task id, the ended-th at the provider, has completed.
func (w *waiter) one(ctx context.Context, id string, ended int) error {
	for w.prov.SB.Stats().Succeeded < ended {
		if err := w.check(); err != nil {
			return err
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	for {
		t, err := w.api.Task(ctx, id)
		if err != nil {
			return err
		}
		switch t.Status {
		case "completed":
			return nil
		case "failed", "canceled":
			return taskError(t)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
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
