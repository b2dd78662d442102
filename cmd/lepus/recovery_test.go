package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sandbox"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// resumeBound is the promise these tests check: a job whose process died
// runs again within 15 s (on Postgres: the 10 s heartbeat lapse plus one
// 2 s rescue round, plus the run). recoverySlack is only a failure bound
// for a loaded machine, never a timing window.
const (
	resumeBound   = 15 * time.Second
	recoverySlack = 10 * time.Second
)

// TestServe_KillNineResumesFast kills `lepus serve` while a face swap's
// run is blocked inside the provider submit call, with the default job
// timeout and rescue settings, and checks that the restart finishes it
// within seconds, paying once and spending no attempt on the crash.
func TestServe_KillNineResumesFast(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			rig := newRecoveryRig(t, dialect)
			env := rig.env(t)
			first := startProcess(t, rig.bin, env)
			tok := first.token(t, "kim")
			id := rig.submit(t, first, tok)
			rig.waitAccepted(t)
			if dialect == sqlstore.DialectPostgres {
				if j := rig.job(t, id); j.state != "running" || j.attempt != 1 {
					t.Fatalf("before the kill: job %+v, want running attempt 1", j)
				}
			}
			first.kill(t)

			second := startProcess(t, rig.bin, env)
			ready := time.Now()
			done := waitTask(t, second, tok, id, taskEnded)
			resumed := time.Since(ready)
			t.Logf("%s: task finished %s after the restart was ready", dialect, resumed.Round(time.Millisecond))
			if done.Status != "completed" || len(done.Assets) != 1 {
				t.Fatalf("after restart: %+v", done)
			}
			if n := rig.sb.Submissions(id + "-image"); n != 1 {
				t.Fatalf("%d submissions, want exactly 1", n)
			}
			if resumed > resumeBound+recoverySlack {
				t.Fatalf("the task finished %s after the restart; want within %s", resumed, resumeBound)
			}
			second.terminate(t) // SQLite: read the database after its process is gone
			if j := rig.job(t, id); j.state != "completed" || j.attempt != 1 || j.errors != 0 {
				t.Fatalf("job %+v, want completed on attempt 1 with no errors: the killed run must not count", j)
			}
		})
	}
}

// TestServe_KillNineTwoProcesses runs two `lepus serve` on one Postgres,
// kills the one running a face swap (blocked at the provider submit), and
// checks that the other finishes it within seconds, paying once.
func TestServe_KillNineTwoProcesses(t *testing.T) {
	t.Parallel()
	rig := newRecoveryRig(t, sqlstore.DialectPostgres)
	a := startProcess(t, rig.bin, rig.env(t))
	b := startProcess(t, rig.bin, rig.env(t))
	tok := a.token(t, "lee")
	id := rig.submit(t, a, tok)
	rig.waitAccepted(t)
	j := rig.job(t, id)
	if j.state != "running" {
		t.Fatalf("job %+v, want running", j)
	}
	owner, survivor := a, b
	switch {
	case runsIn(j.owner, a) && !runsIn(j.owner, b):
	case runsIn(j.owner, b) && !runsIn(j.owner, a):
		owner, survivor = b, a
	default:
		t.Fatalf("job attempted by %q, which names neither pid %d nor pid %d", j.owner, a.cmd.Process.Pid, b.cmd.Process.Pid)
	}
	owner.kill(t)
	killed := time.Now()
	done := waitTask(t, survivor, tok, id, taskEnded)
	resumed := time.Since(killed)
	t.Logf("the surviving process finished the task %s after the kill", resumed.Round(time.Millisecond))
	if done.Status != "completed" || len(done.Assets) != 1 {
		t.Fatalf("after the kill: %+v", done)
	}
	if n := rig.sb.Submissions(id + "-image"); n != 1 {
		t.Fatalf("%d submissions, want exactly 1", n)
	}
	if resumed > resumeBound+recoverySlack {
		t.Fatalf("the task finished %s after the kill; want within %s", resumed, resumeBound)
	}
	// River records the job's end just after the task's.
	if j := rig.waitJob(t, id, "completed"); j.attempt != 1 || j.errors != 0 || runsIn(j.owner, owner) {
		t.Fatalf("job %+v, want completed by the survivor on attempt 1 with no errors", j)
	}
}

// TestServe_SecondServeRefusesDataDir starts a second `lepus serve` on a
// SQLite data dir that one already uses: it must refuse, not share it.
func TestServe_SecondServeRefusesDataDir(t *testing.T) {
	t.Parallel()
	rig := newRecoveryRig(t, sqlstore.DialectSQLite)
	env := rig.env(t)
	startProcess(t, rig.bin, env)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, rig.bin, "serve")
	cmd.Env = append(env, "LEPUS_ADDR="+freeAddr(t)) // the port must not be what stops it
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 || ctx.Err() != nil {
		t.Fatalf("second serve: %v, want a non-zero exit; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), rig.dataDir) || !strings.Contains(string(out), "in use") {
		t.Fatalf("second serve's output does not say data dir %s is in use:\n%s", rig.dataDir, out)
	}
}

// TestServe_SigtermHandsBack stops `lepus serve` with SIGTERM while a run
// is blocked at the provider and a client watches the task's events: the
// stream ends at once, the run is cut after the grace period and handed
// back without spending its attempt, and the restart finishes the task.
func TestServe_SigtermHandsBack(t *testing.T) {
	t.Parallel()
	const grace = time.Second
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			rig := newRecoveryRig(t, dialect)
			env := rig.env(t, fmt.Sprintf("LEPUS_SHUTDOWN_GRACE=%s", grace))
			p := startProcess(t, rig.bin, env)
			tok := p.token(t, "max")
			id := rig.submit(t, p, tok)
			rig.waitAccepted(t)

			req, _ := http.NewRequest(http.MethodGet, p.url+"/tasks/"+id+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("events: %s", resp.Status)
			}
			type streamEnd struct {
				at  time.Time
				err error
			}
			ended := make(chan streamEnd, 1)
			go func() {
				defer resp.Body.Close()
				_, err := io.Copy(io.Discard, resp.Body)
				ended <- streamEnd{time.Now(), err}
			}()

			sigterm := time.Now()
			exited := p.terminate(t)
			took := exited.Sub(sigterm)
			var end streamEnd
			select {
			case end = <-ended:
			case <-time.After(90 * time.Second):
				t.Fatal("the event stream did not end")
			}
			t.Logf("%s: event stream ended %s and the process exited %s after SIGTERM",
				dialect, end.at.Sub(sigterm).Round(time.Millisecond), took.Round(time.Millisecond))
			if end.err != nil || !end.at.Before(exited) {
				t.Fatalf("event stream ended at +%s (error %v), process exited at +%s: the server must end the stream before it exits",
					end.at.Sub(sigterm), end.err, took)
			}
			if took > grace+10*time.Second {
				t.Fatalf("the process took %s to exit; want within grace %s + 10 s", took, grace)
			}
			if j := rig.job(t, id); j.attempt != 0 || j.errors != 0 || (j.state != "available" && j.state != "scheduled") {
				t.Fatalf("after SIGTERM: job %+v, want waiting at attempt 0 (as before the run) with no errors", j)
			}

			second := startProcess(t, rig.bin, env)
			done := waitTask(t, second, tok, id, taskEnded)
			if done.Status != "completed" || len(done.Assets) != 1 {
				t.Fatalf("after restart: %+v", done)
			}
			if n := rig.sb.Submissions(id + "-image"); n != 1 {
				t.Fatalf("%d submissions, want exactly 1", n)
			}
		})
	}
}

// recoveryRig is one database and one provider (the sandbox, whose first
// face-swap submission is accepted and never answered) for `lepus serve`
// processes to share.
type recoveryRig struct {
	bin      string
	dialect  string
	dbURL    string // "" for SQLite in dataDir
	dataDir  string // the first env's data dir
	sb       *sandbox.Sandbox
	provider string
	accepted chan struct{}
	db       *sql.DB // opened on first use
}

func newRecoveryRig(t *testing.T, dialect string) *recoveryRig {
	t.Helper()
	r := &recoveryRig{dialect: dialect, accepted: make(chan struct{})}
	if dialect == sqlstore.DialectPostgres {
		r.dbURL = sqlstoretest.PostgresSchema(t)
	}
	r.bin = lepusBinary(t)
	r.sb = sandbox.New(sandbox.Config{ImageLatency: 200 * time.Millisecond})
	t.Cleanup(r.sb.Close)
	srv := httptest.NewServer(withholdAnswer(r.sb, kling.PathOmniImage, r.accepted))
	t.Cleanup(srv.Close)
	r.provider = srv.URL
	t.Cleanup(func() {
		if r.db != nil {
			_ = r.db.Close()
		}
	})
	return r
}

// env is the environment of one process: its own address and, the first
// time, the rig's data dir (later calls get their own). Job timeout and
// rescue settings are the defaults: no LEPUS_ variable is inherited.
func (r *recoveryRig) env(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEPUS_") {
			env = append(env, kv)
		}
	}
	dir := t.TempDir()
	if r.dataDir == "" {
		r.dataDir = dir
	}
	env = append(env,
		"LEPUS_ADDR="+freeAddr(t),
		"LEPUS_DATA_DIR="+dir,
		"LEPUS_DATABASE_URL="+r.dbURL,
		"LEPUS_JWT_SECRET="+testSecret,
		"LEPUS_ALLOW_PRIVATE_URLS=1",
		"LEPUS_POLL_INTERVAL=100ms",
		"LEPUS_QUEUE_POLL_INTERVAL=50ms",
		"LEPUS_RETRY_BASE=50ms",
		"KLING_ACCESS_KEY=sandbox-ak", "KLING_SECRET_KEY=sandbox-sk", "KLING_BASE_URL="+r.provider,
	)
	return append(env, extra...)
}

// submit creates a face swap (one Kling image stage) and returns its id.
func (r *recoveryRig) submit(t *testing.T, p *process, tok string) string {
	t.Helper()
	var task taskResp
	p.postJSON(t, "/kling/face-swap", tok, faceSwapBody(t, p.lepusServer, tok), nil, &task)
	if task.ID == "" {
		t.Fatal("face swap was not created")
	}
	return task.ID
}

// waitAccepted waits until the provider holds the face-swap submission:
// from then on the run is blocked inside the submit call.
func (r *recoveryRig) waitAccepted(t *testing.T) {
	t.Helper()
	select {
	case <-r.accepted:
	case <-time.After(90 * time.Second):
		t.Fatalf("the provider never received POST %s", kling.PathOmniImage)
	}
}

// open returns the rig's database: Postgres at any time; SQLite read-only,
// to be used only while no process runs on it.
func (r *recoveryRig) open(t *testing.T) *sql.DB {
	t.Helper()
	if r.db != nil {
		return r.db
	}
	var err error
	if r.dialect == sqlstore.DialectPostgres {
		r.db, err = sql.Open("pgx", r.dbURL)
	} else {
		r.db, err = sql.Open("sqlite", "file:"+filepath.Join(r.dataDir, "lepus.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	return r.db
}

type jobRow struct {
	state   string
	attempt int
	errors  int
	owner   string // the last attempted_by: the process that ran it last
}

// job reads the River job row of a task.
func (r *recoveryRig) job(t *testing.T, taskID string) jobRow {
	t.Helper()
	q := `SELECT state, attempt, coalesce(array_length(errors, 1), 0),
		coalesce(attempted_by[array_length(attempted_by, 1)], '')
		FROM river_job WHERE id = (SELECT job_id FROM task WHERE id = $1)`
	if r.dialect == sqlstore.DialectSQLite {
		q = `SELECT state, attempt, coalesce(json_array_length(errors), 0),
			coalesce(json_extract(attempted_by, '$[#-1]'), '')
			FROM river_job WHERE id = (SELECT job_id FROM task WHERE id = $1)`
	}
	var j jobRow
	if err := r.open(t).QueryRow(q, taskID).Scan(&j.state, &j.attempt, &j.errors, &j.owner); err != nil {
		t.Fatalf("river job of task %s: %v", taskID, err)
	}
	return j
}

// waitJob waits until the task's River job is in state (Postgres, or
// SQLite with no process running) and returns it.
func (r *recoveryRig) waitJob(t *testing.T, taskID, state string) jobRow {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		j := r.job(t, taskID)
		if j.state == state {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("river job of task %s: %+v, want state %s", taskID, j, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runsIn reports whether a River process id (see processID) names p.
func runsIn(processID string, p *process) bool {
	return strings.Contains(processID, fmt.Sprintf("-%d-", p.cmd.Process.Pid))
}

func taskEnded(tr taskResp) bool { return tr.Status != "pending" && tr.Status != "processing" }

// terminate sends SIGTERM, waits for a clean exit and returns when it
// was seen.
func (p *process) terminate(t *testing.T) time.Time {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		at := time.Now()
		if err != nil {
			t.Fatalf("lepus serve after SIGTERM: %v", err)
		}
		return at
	case <-time.After(90 * time.Second):
		_ = p.cmd.Process.Kill()
		<-exited
		t.Fatal("lepus serve did not exit after SIGTERM")
		return time.Time{}
	}
}
