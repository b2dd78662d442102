package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sandbox"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
	"github.com/lepus-ai/lepus/internal/testutil/s3rver"
)

// An API process's event stream hears of a worker process's work through
// Postgres NOTIFY: with the periodic re-read set to an hour, a stream opened
// while the provider holds the task still ends with its completion.
func TestRoles_EventsAcrossProcesses(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Config{ImageLatency: 100 * time.Millisecond})
	t.Cleanup(sb.Close)
	arrived, release := make(chan string, 1), make(chan struct{})
	provider := httptest.NewServer(holdFirst(sb, kling.PathOmniImage, arrived, release))
	t.Cleanup(provider.Close)
	env := map[string]string{
		"LEPUS_DATABASE_URL":   sqlstoretest.PostgresSchema(t),
		"LEPUS_EVENTS_RECHECK": "1h",
		"KLING_ACCESS_KEY":     "sandbox-ak", "KLING_SECRET_KEY": "sandbox-sk", "KLING_BASE_URL": provider.URL,
		"LEPUS_ALLOW_PRIVATE_URLS": "1",
	}
	api := startSplit(t, env)
	tok := api.token(t, "nora")
	var task taskResp
	if resp := api.postJSON(t, "/kling/face-swap", tok, faceSwapBody(t, api, tok), nil, &task); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create: %d", resp.StatusCode)
	}

	waitChan(t, arrived, "the provider never received the face swap")
	events := api.openEvents(t, tok, task.ID)
	if first := events.next(t); first.Name != "status" || isCompleted(first) {
		t.Fatalf("first event %s %s, want the running task's status", first.Name, first.Data)
	}
	close(release) // the worker process goes on; only NOTIFY can tell this stream
	if last := events.last(t); !isCompleted(last) {
		t.Fatalf("last event %s %s, want status completed", last.Name, last.Data)
	}
}

// TestScaleOut_Postgres runs Lepus as it is deployed for scale: one
// `lepus migrate`, then two `lepus api` and two `lepus worker` processes
// (the real binary) on one Postgres database and one bucket on s3rver, a
// real S3 server in its own process. Face swaps with video are submitted
// through both APIs. The first image submission reaches the provider and
// is never answered; the worker that sent it (found from the running job's
// attempted_by and lepus_process) is killed with SIGKILL. Then every task
// completes once and is paid once, the held task's event stream on the
// other API reports its completion (NOTIFY only: re-reads are an hour
// apart), and every asset downloads the same through either API.
//
// Required when LEPUS_TEST_DATABASE_URL is set; like every S3 test it
// needs LEPUS_TEST_S3RVER (set by .ci/run). Not parallel: s3rver.Start
// sets the AWS environment variables the children inherit.
func TestScaleOut_Postgres(t *testing.T) {
	dbURL := sqlstoretest.PostgresSchema(t)
	s3 := s3rver.Start(t, "lepus")
	bin := lepusBinary(t)

	sb := sandbox.New(sandbox.Config{ImageLatency: 300 * time.Millisecond, VideoLatency: 300 * time.Millisecond})
	t.Cleanup(sb.Close)
	held := &heldSubmit{accepted: make(chan struct{})}
	provider := httptest.NewServer(held.wrap(sb, kling.PathOmniImage))
	t.Cleanup(provider.Close)

	env := append(os.Environ(),
		"LEPUS_DATABASE_URL="+dbURL,
		"LEPUS_BLOB_URL="+s3.BucketURL("lepus"),
		"LEPUS_JWT_SECRET="+testSecret,
		"LEPUS_ALLOW_PRIVATE_URLS=1",
		"LEPUS_POLL_INTERVAL=100ms",
		"LEPUS_QUEUE_POLL_INTERVAL=50ms",
		"LEPUS_RETRY_BASE=50ms",
		"LEPUS_EVENTS_RECHECK=1h", // streams hear of other processes' work through NOTIFY only
		"LEPUS_LOG_LEVEL=warn",
		"KLING_ACCESS_KEY=sandbox-ak", "KLING_SECRET_KEY=sandbox-sk", "KLING_BASE_URL="+provider.URL,
	)
	migrate := exec.Command(bin, "migrate")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("lepus migrate: %v\n%s", err, out)
	}
	apis := []*process{startChild(t, bin, "api", env), startChild(t, bin, "api", env)}
	workerEnv := append(env[:len(env):len(env)], "LEPUS_PUBLIC_URL="+apis[0].url) // the links in webhook payloads
	workers := []*process{startChild(t, bin, "worker", workerEnv), startChild(t, bin, "worker", workerEnv)}

	// Each API gets its own uploads (its upload URLs name it), so each
	// task's inputs are its API's own.
	tok := apis[0].token(t, "scale")
	inputs := make([]map[string]any, len(apis))
	for i, api := range apis {
		inputs[i] = faceSwapBody(t, api.lepusServer, tok)
		inputs[i]["generate_video"] = true
	}
	const n = 4
	createdOn := map[string]int{} // task id → index of the API that created it
	var ids []string
	for i := range n {
		var task taskResp
		resp := apis[i%2].postJSON(t, "/kling/face-swap", tok, inputs[i%2], nil, &task)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("create %d: %d", i, resp.StatusCode)
		}
		createdOn[task.ID] = i % 2
		ids = append(ids, task.ID)
	}

	// The first image submission is accepted and never answered: its
	// worker is in the middle of a step.
	waitChan(t, held.accepted, "the provider never received an image submission")
	heldID := strings.TrimSuffix(held.externalID, "-image")
	creator, ok := createdOn[heldID]
	if !ok {
		t.Fatalf("held submission %q is no task of this test", held.externalID)
	}
	watcher := apis[1-creator]
	events := watcher.openEvents(t, tok, heldID)

	victim := runningWorker(t, dbURL, heldID, workers)
	victim.kill(t)

	for _, id := range ids {
		done := waitTask(t, apis[createdOn[id]], tok, id, func(tr taskResp) bool { return tr.Status != "pending" && tr.Status != "processing" })
		if done.Status != "completed" {
			t.Fatalf("task %s: %s %+v", id, done.Status, done.Error)
		}
	}
	if last := events.last(t); !isCompleted(last) {
		t.Fatalf("the held task's stream on the other API ended with %s %s, want status completed", last.Name, last.Data)
	}

	// Completed once, paid once, readable through either API.
	paid := 0
	for _, id := range ids {
		if a, b := sb.Submissions(id+"-image"), sb.Submissions(id+"-video"); a != 1 || b != 1 {
			t.Errorf("task %s: %d image and %d video submissions, want exactly 1 each", id, a, b)
		}
		var done taskResp
		apis[1-createdOn[id]].do(t, http.MethodGet, "/tasks/"+id, tok, nil, nil, &done)
		paid += done.Cost
		if len(done.Assets) != 2 {
			t.Fatalf("task %s has %d assets, want the image and the video", id, len(done.Assets))
		}
		for _, a := range done.Assets {
			var bodies [][]byte
			for _, api := range apis {
				resp := api.do(t, http.MethodGet, "/assets/"+a.ID+"/content", tok, nil, nil, nil)
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || len(body) == 0 || int64(len(body)) != a.Bytes {
					t.Fatalf("asset %s via %s: %d, %d bytes, want 200 and %d bytes", a.ID, api.url, resp.StatusCode, len(body), a.Bytes)
				}
				bodies = append(bodies, body)
			}
			if !bytes.Equal(bodies[0], bodies[1]) {
				t.Errorf("asset %s differs between the two APIs", a.ID)
			}
		}
	}
	var credits struct{ Balance int }
	apis[1].do(t, http.MethodGet, "/credits", tok, nil, nil, &credits)
	if paid != n*14 || credits.Balance != 1000-paid {
		t.Errorf("tasks cost %d in all, balance %d; want %d and %d (each paid once)", paid, credits.Balance, n*14, 1000-n*14)
	}
}

// runningWorker finds the worker process running taskID's job right now:
// the job's last attempted_by names a process in lepus_process, whose pid
// is one of workers.
func runningWorker(t *testing.T, dbURL, taskID string, workers []*process) *process {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var procID string
	var pid int
	if err := db.QueryRow(`SELECT j.attempted_by[array_length(j.attempted_by, 1)] FROM river_job j
		JOIN task t ON t.job_id = j.id WHERE t.id = $1 AND j.state = 'running'`, taskID).Scan(&procID); err != nil {
		t.Fatalf("the running job of task %s: %v", taskID, err)
	}
	if err := db.QueryRow(`SELECT pid FROM lepus_process WHERE id = $1`, procID).Scan(&pid); err != nil {
		t.Fatalf("process %s: %v", procID, err)
	}
	for _, w := range workers {
		if w.cmd.Process.Pid == pid {
			t.Logf("task %s is mid-step in worker %s (pid %d)", taskID, procID, pid)
			return w
		}
	}
	t.Fatalf("task %s runs in process %s (pid %d), which is none of the workers", taskID, procID, pid)
	return nil
}

// startChild starts the lepus binary as a child process in role (api or
// worker) with env plus an address and data dir of its own (an API's
// address is its LEPUS_PUBLIC_URL; a worker's comes in env). The test's
// end kills it.
func startChild(t *testing.T, bin, role string, env []string) *process {
	t.Helper()
	addr := freeAddr(t)
	env = append(env[:len(env):len(env)], "LEPUS_ADDR="+addr, "LEPUS_DATA_DIR="+t.TempDir())
	if role == "api" {
		env = append(env, "LEPUS_PUBLIC_URL=http://"+addr) // the last of a name wins
	}
	return startBinary(t, bin, role, env)
}

// heldSubmit serves the provider, except that the first POST to a path is
// accepted by it and then never answered: externalID records the task it
// named, accepted is closed, and the handler waits until the client goes
// away (a SIGKILL closes its connection).
type heldSubmit struct {
	once       sync.Once
	accepted   chan struct{}
	externalID string // set before accepted is closed
}

func (h *heldSubmit) wrap(next http.Handler, path string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		if r.Method == http.MethodPost && r.URL.Path == path {
			h.once.Do(func() { first = true })
		}
		if !first {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var v struct {
			ExternalTaskID string `json:"external_task_id"`
		}
		_ = json.Unmarshal(body, &v)
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(httptest.NewRecorder(), r)
		h.externalID = v.ExternalTaskID
		close(h.accepted)
		<-r.Context().Done()
	})
}

// holdFirst serves next, except that the first POST to path waits (before
// the provider sees it) until release is closed; its arrival is signalled
// on arrived.
func holdFirst(next http.Handler, path string, arrived chan<- string, release <-chan struct{}) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		if r.Method == http.MethodPost && r.URL.Path == path {
			once.Do(func() { first = true })
		}
		if first {
			arrived <- path
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func waitChan[T any](t *testing.T, ch <-chan T, msg string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(90 * time.Second):
		t.Fatal(msg)
	}
}
