package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/apiclient"
	"github.com/lepus-ai/lepus/bench/internal/benchdb"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/load"
	"github.com/lepus-ai/lepus/bench/internal/provider"
	"github.com/lepus-ai/lepus/internal/httpapi"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// runLepus measures `lepus serve` accepting face swaps with its queue
// paused, and returns how many jobs were still available at the end.
// Cleanups run in reverse: the child first, then its database, then the
// sandbox.
func runLepus(ctx context.Context, o options, bin, tmp string, logf func(string, ...any)) (load.Result, int, error) {
	dir := filepath.Join(tmp, "serve") // tmp/lepus is the binary
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return load.Result{}, 0, err
	}
	// Nothing reaches the provider while the queue is paused; if a job ran
	// anyway, an hour's latency keeps it from finishing during the run.
	prov, err := provider.Start(provider.Config{Sandbox: sandbox.Config{ImageLatency: time.Hour}})
	if err != nil {
		return load.Result{}, 0, err
	}
	defer prov.Close()
	db, err := benchdb.Open(ctx, o.db, dir)
	if err != nil {
		return load.Result{}, 0, err
	}
	defer db.Close()

	secret, admin := lepusproc.RandomHex(32), lepusproc.RandomHex(16)
	env := append(lepusproc.SandboxEnv(dir, db.LepusURL, prov.URL, secret),
		"LEPUS_ADDR=127.0.0.1:0",
		"LEPUS_STARTING_CREDITS=1000000000",
		"LEPUS_ADMIN_TOKEN="+admin,
	)
	proc, err := lepusproc.Start(ctx, bin, env, dir)
	if err != nil {
		return load.Result{}, 0, err
	}
	defer proc.Stop()
	logf("lepus pid %d at %s, sandbox at %s, logs in %s", proc.PID, proc.URL, prov.URL, proc.LogPath)

	if err := pauseQueue(ctx, proc.URL, admin); err != nil {
		return load.Result{}, 0, err
	}
	api, err := apiclient.New(proc.URL, secret, o.clients)
	if err != nil {
		return load.Result{}, 0, err
	}
	scene, face, err := api.UploadPortraits(ctx)
	if err != nil {
		return load.Result{}, 0, err
	}
	key := keys("lepus")
	res, err := warmThenRun(ctx, o, func(ctx context.Context, i int) error {
		_, err := api.FaceSwap(ctx, key(i), scene, face)
		return err
	}, func(ctx context.Context) error { // the pause took before the load
		_, err := checkPaused(ctx, db.Probe, o.warmup)
		return err
	})
	if err != nil {
		return res, 0, err
	}
	avail, err := checkPaused(ctx, db.Probe, o.warmup+o.n)
	if tail := proc.LogTail(10); tail != "" {
		logf("lepus logged at warn or above (last lines):\n%s", tail)
	}
	return res, avail, err
}

// pauseQueue pauses River's queue through the River UI API that lepus
// mounts under /admin/river (riverui v0.22.0: PUT api/queues/{name}/pause),
// with the admin token as bearer. The queue's row appears once River's
// producer has started, which may be just after the server first answers:
// until then the API answers 404, which is retried for up to 30 s.
func pauseQueue(ctx context.Context, base, token string) error {
	url := base + httpapi.RiverUIPath + "/api/queues/" + job.QueueName + "/pause"
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("pause queue: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return nil
		case resp.StatusCode == http.StatusNotFound && time.Now().Before(deadline):
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		default:
			return fmt.Errorf("pause queue: PUT %s: status %d: %s", url, resp.StatusCode, body)
		}
	}
}

// checkPaused checks that all face swap jobs are still available, want of
// them: no worker fetched any, so the queue stayed paused. It returns the
// number available.
func checkPaused(ctx context.Context, probe *sql.DB, want int) (int, error) {
	rows, err := probe.QueryContext(ctx, `SELECT state, count(*) FROM river_job WHERE kind = $1 GROUP BY state`, faceSwap)
	if err != nil {
		return 0, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	states := map[string]int{}
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return 0, fmt.Errorf("count jobs: %w", err)
		}
		states[state] = n
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count jobs: %w", err)
	}
	avail := states["available"]
	if avail != want || len(states) > 1 {
		return avail, fmt.Errorf("River's %s jobs by state are %v, want %d available: the queue's pause did not hold", faceSwap, states, want)
	}
	return avail, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
