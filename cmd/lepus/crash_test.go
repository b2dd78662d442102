package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// lepusBinary builds cmd/lepus once per test run.
func lepusBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lepus-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "lepus")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		t.Fatalf("build lepus: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// TestServe_KillNineResumes kills `lepus serve` with SIGKILL while a face
// swap waits on the provider, restarts it on the same data, and checks that
// the task completes with exactly one provider submission.
func TestServe_KillNineResumes(t *testing.T) {
	t.Parallel()
	crashAndResume(t, crashCase{
		sandbox: sandbox.Config{ImageLatency: 1500 * time.Millisecond},
		submit: func(t *testing.T, p *process, tok string) string {
			var task taskResp
			p.postJSON(t, "/kling/face-swap", tok, faceSwapBody(t, p.lepusServer, tok), nil, &task)
			return task.ID
		},
		killWhen: func(tr taskResp) bool { return tr.Status == "processing" },
		check: func(t *testing.T, done taskResp, sb *sandbox.Sandbox) {
			if len(done.Assets) != 1 || sb.Submissions(done.ID+"-image") != 1 {
				t.Fatalf("%d assets, %d submissions; want 1 and exactly 1", len(done.Assets), sb.Submissions(done.ID+"-image"))
			}
		},
	})
}

// TestServe_KillNineLipSync kills `lepus serve` after identify-face
// answered and while the lip-sync submission is on the wire (the provider
// accepts it and never answers), so Lepus never hears the answer. After
// the restart identify-face is not repeated and lip sync is not paid twice.
func TestServe_KillNineLipSync(t *testing.T) {
	t.Parallel()
	crashAndResume(t, crashCase{
		sandbox: sandbox.Config{VideoLatency: time.Second},
		// The kill waits for the provider to accept the submission, not for
		// a timing window; a run gets 10 s, so a slow machine cannot time
		// out identify-face (and repeat it) before that.
		withhold: kling.PathAdvancedLipSync,
		env:      []string{"LEPUS_JOB_TIMEOUT=10s", "LEPUS_RESCUE_AFTER=10s"},
		submit: func(t *testing.T, p *process, tok string) string {
			var video bytes.Buffer
			if err := synth.WriteMP4(&video, sample.Portrait(sample.Palettes[0], 720, 960), 4, synth.MP4Options{MaxSide: 960}); err != nil {
				t.Fatal(err)
			}
			_, v := p.upload(t, tok, video.Bytes())
			_, a := p.upload(t, tok, synth.SineWAV(3, 16000))
			var task taskResp
			p.postJSON(t, "/kling/lip-sync", tok, map[string]any{"video_url": v.URL, "audio_url": a.URL}, nil, &task)
			return task.ID
		},
		killWhen: func(tr taskResp) bool { return tr.Step == "video.submit" },
		check: func(t *testing.T, done taskResp, sb *sandbox.Sandbox) {
			st := sb.Stats()
			if len(done.Assets) != 1 || sb.Submissions(done.ID+"-video") != 1 || st.Sessions != 1 {
				t.Fatalf("%d assets, %d lip-sync submissions, %d identify-face sessions; want 1, 1, 1",
					len(done.Assets), sb.Submissions(done.ID+"-video"), st.Sessions)
			}
		},
	})
}

// crashCase is one kill -9 scenario.
type crashCase struct {
	sandbox sandbox.Config
	// withhold, when set, is a provider path whose first POST the provider
	// accepts but never answers; killWhen is then checked once it has been
	// accepted.
	withhold string
	env      []string // on top of the defaults
	submit   func(t *testing.T, p *process, tok string) string
	killWhen func(taskResp) bool
	check    func(t *testing.T, done taskResp, sb *sandbox.Sandbox)
}

// crashAndResume runs a crash case on SQLite and on Postgres: start the
// real binary, submit, SIGKILL it when killWhen holds, start it again on the
// same data, and check the finished task.
func crashAndResume(t *testing.T, c crashCase) {
	t.Helper()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbURL := "" // SQLite in the data dir
			if dialect == sqlstore.DialectPostgres {
				dbURL = sqlstoretest.PostgresSchema(t)
			}
			bin := lepusBinary(t)
			sb := sandbox.New(c.sandbox)
			t.Cleanup(sb.Close)
			var handler http.Handler = sb
			accepted := make(chan struct{})
			if c.withhold != "" {
				handler = withholdAnswer(sb, c.withhold, accepted)
			}
			provider := httptest.NewServer(handler)
			t.Cleanup(provider.Close)

			env := append(os.Environ(),
				"LEPUS_ADDR="+freeAddr(t),
				"LEPUS_DATA_DIR="+t.TempDir(),
				"LEPUS_DATABASE_URL="+dbURL,
				"LEPUS_JWT_SECRET="+testSecret,
				"LEPUS_ALLOW_PRIVATE_URLS=1",
				"LEPUS_POLL_INTERVAL=100ms",
				"LEPUS_QUEUE_POLL_INTERVAL=50ms",
				"LEPUS_RETRY_BASE=50ms",
				// A job killed mid-run is presumed lost after 2 s (River's
				// rescuer looks every 30 s).
				"LEPUS_JOB_TIMEOUT=1s", "LEPUS_RESCUE_AFTER=2s",
				"KLING_ACCESS_KEY=sandbox-ak", "KLING_SECRET_KEY=sandbox-sk", "KLING_BASE_URL="+provider.URL,
			)
			env = append(env, c.env...) // the last value of a variable wins
			first := startProcess(t, bin, env)
			tok := first.token(t, "kim")
			id := c.submit(t, first, tok)
			if c.withhold != "" {
				select {
				case <-accepted:
				case <-time.After(90 * time.Second):
					t.Fatalf("the provider never received POST %s", c.withhold)
				}
			}
			waitTask(t, first, tok, id, c.killWhen)
			first.kill(t)

			second := startProcess(t, bin, env)
			done := waitTask(t, second, tok, id, func(tr taskResp) bool { return tr.Status != "pending" && tr.Status != "processing" })
			if done.Status != "completed" {
				t.Fatalf("after restart: %+v", done)
			}
			c.check(t, done, sb)
		})
	}
}

// withholdAnswer serves h, except that the first POST to path is accepted
// by h and then never answered: accepted is closed, and the handler waits
// until the client goes away (the kill closes its connection).
func withholdAnswer(h http.Handler, path string, accepted chan struct{}) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		if r.Method == http.MethodPost && r.URL.Path == path {
			once.Do(func() { first = true })
		}
		if !first {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		close(accepted)
		<-r.Context().Done()
	})
}

type process struct {
	*lepusServer
	cmd *exec.Cmd
}

// startProcess starts the lepus binary's serve with exactly env.
func startProcess(t *testing.T, bin string, env []string) *process {
	t.Helper()
	return startBinary(t, bin, "serve", env)
}

// startBinary starts the lepus binary's role (serve, api or worker) with
// exactly env and waits for its first line, which names an API's URL. The
// test's end kills it.
func startBinary(t *testing.T, bin, role string, env []string) *process {
	t.Helper()
	cmd := exec.Command(bin, role)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = newClosingLog(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() { p.kill(t) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("lepus %s did not start: %v", role, err)
	}
	p.lepusServer = &lepusServer{signer: startSigner(t)}
	if role != "worker" { // "lepus serving at URL (mode)"
		f := strings.Fields(line)
		if len(f) < 4 {
			t.Fatalf("lepus %s: unexpected first line %q", role, line)
		}
		p.url = f[3]
	}
	return p
}

// kill sends SIGKILL: no shutdown code runs.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

func waitTask(t *testing.T, s *process, tok, id string, cond func(taskResp) bool) taskResp {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for {
		var tr taskResp
		s.do(t, "GET", "/tasks/"+id, tok, nil, nil, &tr)
		if cond(tr) {
			return tr
		}
		select {
		case <-ctx.Done():
			t.Fatalf("task %s: condition not met; last %+v", id, tr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
