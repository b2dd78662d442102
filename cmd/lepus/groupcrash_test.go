package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// The burst of TestServe_KillNineDuringGroupCommit.
const (
	burstUsers   = 4       // the clients' users, so groups mix users' accounts
	burstClients = 48      // concurrent clients, spread over the users
	burstKill    = 100     // creates answered 202 before the kill
	burstCredits = 1000000 // every user's starting credits: no create runs short
)

// TestServe_KillNineDuringGroupCommit kills `lepus serve` with SIGKILL
// while a burst of concurrent face-swap creates, each with its own
// Idempotency-Key, is being group-committed (internal/sqlstore/groupcommit.go),
// restarts it on the same data, and checks that a crash in the middle of a
// group commit loses no accepted task and creates none that was not
// accepted:
//
//   - every create answered 202 is still there: its replay answers 200,
//     Idempotent-Replayed, the same task;
//   - a create whose answer the kill cut off either committed (its replay
//     finds it) or left nothing (its replay creates it), never a 409 or 5xx;
//     one that never reached the server (connection refused) left nothing;
//   - every task in the database is one of these and whole: its River job
//     and its debit exist; no job or debit exists without its task; each
//     user's balance is the starting credits minus the costs of the user's
//     tasks.
//
// On Postgres the kill also lands in a group known to be open: see
// stallGroup.
func TestServe_KillNineDuringGroupCommit(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			groupCrash(t, dialect)
		})
	}
}

// burstUser is one user of the burst and the face swap it creates.
type burstUser struct {
	id, tok string
	body    map[string]any
}

func groupCrash(t *testing.T, dialect string) {
	dbURL := "" // SQLite in the data dir
	if dialect == sqlstore.DialectPostgres {
		dbURL = sqlstoretest.PostgresSchema(t)
	}
	bin := lepusBinary(t)
	dataDir := t.TempDir()
	env := append(cleanEnv(),
		"LEPUS_ADDR="+freeAddr(t),
		"LEPUS_DATA_DIR="+dataDir,
		"LEPUS_DATABASE_URL="+dbURL,
		"LEPUS_JWT_SECRET="+testSecret,
		"LEPUS_ALLOW_PRIVATE_URLS=1",
		"LEPUS_LOG_LEVEL=warn", // not one line per accepted task
		"LEPUS_RATE_LIMIT=0", "LEPUS_MAX_IN_FLIGHT=0",
		fmt.Sprintf("LEPUS_STARTING_CREDITS=%d", burstCredits),
		"LEPUS_SHUTDOWN_GRACE=1s",
		// The built-in sandbox never finishes a face swap within the
		// test, so no task ends (and no refund moves a balance), and a
		// couple of workers keep the machine on the creates.
		"LEPUS_WORKERS=2",
		"SANDBOX_IMAGE_LATENCY=1h",
	)
	rig := &recoveryRig{dialect: dialect, dbURL: dbURL, dataDir: dataDir}
	t.Cleanup(func() {
		if rig.db != nil {
			_ = rig.db.Close()
		}
	})

	first := startProcess(t, bin, env)
	// The burst's users, then the one whose create stallGroup holds.
	users := make([]burstUser, burstUsers+1)
	for u := range users {
		users[u].id = fmt.Sprintf("gc-user-%d", u)
		users[u].tok = first.token(t, users[u].id)
		users[u].body = faceSwapBody(t, first.lepusServer, users[u].tok)
	}
	hc := &http.Client{
		Timeout: 90 * time.Second, // a failure bound, not a window
		// A connection per request: Go's transport resends a request
		// carrying an Idempotency-Key when a reused connection dies, which
		// would turn a create the kill cut off into a refused one.
		Transport: &http.Transport{DisableKeepAlives: true},
	}

	var all []burstOutcome
	stalled := users[burstUsers]
	if dialect == sqlstore.DialectPostgres {
		// Its first create opens its credit account, whose row the stall
		// locks.
		o := burstCreate(hc, first.url, stalled, burstUsers, "gc-stall-0")
		if o.id == "" {
			t.Fatalf("create %s: %d %s %v", o.key, o.status, o.body, o.err)
		}
		all = append(all, o)
	}
	b := startBurst(hc, first.url, users[:burstUsers])
	if !b.waitAccepted() {
		first.kill(t)
		b.wait()
		t.Fatalf("only %d creates answered 202 before the clients stopped or 90 s passed", b.accepted.Load())
	}
	var stall *groupStall
	if dialect == sqlstore.DialectPostgres {
		stall = stallGroup(t, rig.open(t), hc, first.url, stalled, burstUsers)
	}
	first.kill(t)
	all = append(all, b.wait()...)
	var open map[string]bool // the keys of the creates the open group held
	if stall != nil {
		o := stall.cut(t)
		all = append(all, o)
		open = stall.openKeys(t, all, users)
		stall.release(t)
		t.Logf("postgres: the kill landed in %d open group(s) holding %d creates' writes", len(stall.open), len(open))
		// The stalled create waits for its user's row before it writes
		// anything (creates lock the user first), so the open group shows
		// the writes of the creates before it; the stalled one counts as
		// open too: it must not be answered, and nothing of it may survive.
		if len(open) == 0 {
			t.Fatalf("the open group held no create's writes; want the creates grouped before the stalled %s", o.key)
		}
		open[o.key] = true
	}

	var nAccepted, nCut, nRefused int
	for _, o := range all {
		switch {
		case o.id != "" && open[o.key]:
			t.Fatalf("create %s was answered 202 (task %s) before its group committed", o.key, o.id)
		case o.id != "":
			nAccepted++
		case o.status != 0:
			t.Fatalf("create %s: %d %s, want 202 with a task", o.key, o.status, o.body)
		case o.refused():
			nRefused++
		default:
			nCut++
		}
	}
	// The kill must land while creates are in flight, so some are cut off.
	// Every client sends until a request fails, so the burst cannot be over
	// before the kill, even on a loaded machine: none cut off is a failure,
	// not a reason to try again. A refused connection proves nothing: that
	// request never reached the server.
	if nAccepted < burstKill || nCut == 0 {
		t.Fatalf("%d creates accepted, %d cut off by the kill, %d refused; want at least %d accepted and 1 cut off",
			nAccepted, nCut, nRefused, burstKill)
	}

	second := startProcess(t, bin, env)
	ids := map[string]string{} // idempotency key → its task after the restart
	var nFound, nFresh int
	for _, o := range all {
		var tr taskResp
		resp := second.postJSON(t, "/kling/face-swap", users[o.user].tok, users[o.user].body,
			map[string]string{"Idempotency-Key": o.key}, &tr)
		replayed := resp.StatusCode == http.StatusOK && resp.Header.Get("Idempotent-Replayed") == "true" && tr.ID != ""
		switch {
		case o.id != "":
			if !replayed || tr.ID != o.id {
				t.Fatalf("replay of accepted create %s (task %s): %d, Idempotent-Replayed %q, task %q; want 200, true, the same task: an accepted task was lost",
					o.key, o.id, resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), tr.ID)
			}
		case replayed && o.refused():
			t.Fatalf("create %s never reached the server (%v), yet its replay found task %s", o.key, o.err, tr.ID)
		case replayed && open[o.key]:
			t.Fatalf("create %s was written in the group open at the kill, yet its replay found task %s", o.key, tr.ID)
		case replayed:
			nFound++
		case resp.StatusCode == http.StatusAccepted && tr.ID != "":
			nFresh++
		default:
			t.Fatalf("replay of create %s (%v): %d %+v; want 200 (it committed) or 202 (it did not)", o.key, o.err, resp.StatusCode, tr)
		}
		ids[o.key] = tr.ID
	}
	t.Logf("%s: %d creates accepted, %d cut off by the kill (%d of them committed, found on replay), %d refused after it",
		dialect, nAccepted, nCut, nFound, nRefused)
	if nFresh != nCut+nRefused-nFound {
		t.Fatalf("%d replays created a task, want %d", nFresh, nCut+nRefused-nFound)
	}

	second.terminate(t) // SQLite: read the database after its process is gone
	checkBurstTasks(t, rig, ids)
}

// burst is clients sending creates concurrently, each until a request of
// its own fails (the kill makes that happen to every one).
type burst struct {
	accepted atomic.Int64
	enough   chan struct{} // closed at burstKill creates answered 202
	done     chan struct{} // closed when every client has stopped
	results  [burstClients][]burstOutcome
}

// startBurst starts burstClients clients spread over users.
func startBurst(hc *http.Client, url string, users []burstUser) *burst {
	b := &burst{enough: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	for c := range burstClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := c % len(users)
			for i := 0; ; i++ {
				o := burstCreate(hc, url, users[u], u, fmt.Sprintf("gc-%d-%d", c, i))
				b.results[c] = append(b.results[c], o)
				if o.id == "" {
					return
				}
				if b.accepted.Add(1) == burstKill {
					close(b.enough)
				}
			}
		}()
	}
	go func() { wg.Wait(); close(b.done) }()
	return b
}

// waitAccepted reports whether burstKill creates were answered 202 (false:
// the clients stopped first, or 90 s passed).
func (b *burst) waitAccepted() bool {
	select {
	case <-b.enough:
		return true
	case <-b.done:
	case <-time.After(90 * time.Second):
	}
	return false
}

// wait waits for the clients to stop and returns every create's outcome.
func (b *burst) wait() []burstOutcome {
	<-b.done
	var all []burstOutcome
	for c := range b.results {
		all = append(all, b.results[c]...)
	}
	return all
}

// burstOutcome is what one create of the burst got.
type burstOutcome struct {
	user   int
	key    string
	status int    // 0: no answer, see err
	id     string // the task of a 202
	body   []byte // any other answer
	err    error
}

// refused reports whether the create never reached the server.
func (o burstOutcome) refused() bool { return errors.Is(o.err, syscall.ECONNREFUSED) }

// burstCreate sends one face-swap create and reports what it got; an
// answer whose body was cut off is no answer.
func burstCreate(hc *http.Client, url string, u burstUser, user int, key string) burstOutcome {
	o := burstOutcome{user: user, key: key}
	body, _ := json.Marshal(u.body)
	req, err := http.NewRequest(http.MethodPost, url+"/kling/face-swap", bytes.NewReader(body))
	if err != nil {
		o.err = err
		return o
	}
	req.Header.Set("Authorization", "Bearer "+u.tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := hc.Do(req)
	if err != nil {
		o.err = err
		return o
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		o.err = err
		return o
	}
	o.status = resp.StatusCode
	var task struct{ ID string }
	if err := json.Unmarshal(data, &task); o.status == http.StatusAccepted && err == nil {
		o.id = task.ID
	}
	if o.id == "" {
		o.body = data
	}
	return o
}

// checkBurstTasks reads the database (no process running on SQLite) and
// checks that its tasks are exactly ids (idempotency key → task) and that
// each is whole: its River job, its one debit of its cost; that nothing
// else was enqueued or debited; and that each user's balance is the
// starting credits minus the user's tasks' costs.
func checkBurstTasks(t *testing.T, rig *recoveryRig, ids map[string]string) {
	t.Helper()
	db := rig.open(t)
	argTask := `j.args->>'task_id'` // the task id in a River job's args
	if rig.dialect == sqlstore.DialectSQLite {
		argTask = `json_extract(j.args, '$.task_id')`
	}
	type taskRow struct {
		user, key, jobKind, jobTask string
		cost                        int
		jobID                       int64
	}
	tasks := map[string]taskRow{}
	rows, err := db.Query(`SELECT t.id, t.user_id, t.idempotency_key, t.cost, t.job_id,
		coalesce(j.kind, ''), coalesce(` + argTask + `, '')
		FROM task t LEFT JOIN river_job j ON j.id = t.job_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var r taskRow
		if err := rows.Scan(&id, &r.user, &r.key, &r.cost, &r.jobID, &r.jobKind, &r.jobTask); err != nil {
			t.Fatal(err)
		}
		tasks[id] = r
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(tasks) != len(ids) {
		t.Fatalf("%d tasks in the database, want %d (one per idempotency key)", len(tasks), len(ids))
	}
	costs := map[string]int{} // user → the sum of their tasks' costs
	for key, id := range ids {
		r, ok := tasks[id]
		switch {
		case !ok || r.key != key:
			t.Fatalf("task %s of key %s: %+v (found %v), want it stored with its key", id, key, r, ok)
		case r.jobID == 0 || r.jobKind != "face_swap" || r.jobTask != id:
			t.Fatalf("task %s: job %d of kind %q for task %q, want its face_swap job", id, r.jobID, r.jobKind, r.jobTask)
		case r.cost <= 0:
			t.Fatalf("task %s: cost %d", id, r.cost)
		}
		costs[r.user] += r.cost
	}

	var orphans int
	if err := db.QueryRow(`SELECT count(*) FROM river_job j
		WHERE NOT EXISTS (SELECT 1 FROM task t WHERE t.job_id = j.id)
		AND j.kind = 'face_swap'`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d face_swap jobs without their task", orphans)
	}

	debits := map[string]int{} // task → its debit
	rows, err = db.Query(`SELECT coalesce(task_id, ''), kind, amount FROM credit_ledger WHERE kind <> 'grant'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var task, kind string
		var amount int
		if err := rows.Scan(&task, &kind, &amount); err != nil {
			t.Fatal(err)
		}
		if _, dup := debits[task]; kind != "debit" || dup {
			t.Fatalf("ledger entry %s %d for task %q: only one debit per task is expected", kind, amount, task)
		}
		debits[task] = amount
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for id, r := range tasks {
		if debits[id] != -r.cost {
			t.Fatalf("task %s: debit %d, want %d", id, debits[id], -r.cost)
		}
	}
	if len(debits) != len(tasks) {
		t.Fatalf("%d debits for %d tasks: something was debited for a task that does not exist", len(debits), len(tasks))
	}

	rows, err = db.Query(`SELECT user_id, balance FROM credit_account`)
	if err != nil {
		t.Fatal(err)
	}
	var accounts []string
	for rows.Next() {
		var user string
		var balance int
		if err := rows.Scan(&user, &balance); err != nil {
			t.Fatal(err)
		}
		if balance != burstCredits-costs[user] {
			t.Fatalf("user %s: balance %d, want %d - %d", user, balance, burstCredits, costs[user])
		}
		accounts = append(accounts, user)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(accounts) != len(costs) {
		t.Fatalf("accounts %s, want one for each of the %d users with tasks", strings.Join(accounts, ", "), len(costs))
	}
}
