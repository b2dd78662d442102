package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildLepus builds cmd/lepus into dir, so the measured process is the real
// binary and not `go run`'s wrapper. It also returns the commit built.
func buildLepus(ctx context.Context, dir string) (bin, rev string, err error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin = filepath.Join(dir, "lepus")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/lepus")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("build lepus: %w\n%s", err, out)
	}
	return bin, revision(ctx, root), nil
}

// revision names the commit the binary was built from, "-dirty" when the
// tree had uncommitted changes ("unknown" without git).
func revision(ctx context.Context, root string) string {
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out))
	}
	rev := git("rev-parse", "--short", "HEAD")
	if rev == "" {
		return "unknown"
	}
	if git("status", "--porcelain") != "" {
		rev += "-dirty"
	}
	return rev
}

// lepusEnv is the child's environment: ours without any LEPUS_, KLING_ or
// SANDBOX_ variable, plus the benchmark's settings.
func lepusEnv(o options, tmp, dbURL, providerURL, secret string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEPUS_") && !strings.HasPrefix(kv, "KLING_") && !strings.HasPrefix(kv, "SANDBOX_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"LEPUS_ADDR=127.0.0.1:0",
		"LEPUS_DATA_DIR="+filepath.Join(tmp, "data"),
		"LEPUS_DATABASE_URL="+dbURL,
		"LEPUS_JWT_SECRET="+secret,
		"LEPUS_ALLOW_PRIVATE_URLS=1",
		"LEPUS_STARTING_CREDITS=100000000",
		"LEPUS_LOG_LEVEL=warn",
		"KLING_ACCESS_KEY=sandbox-ak", "KLING_SECRET_KEY=sandbox-sk", "KLING_BASE_URL="+providerURL,
		// Lepus's own provider cap must not queue them (it needs at least 9).
		"KLING_IMAGE_SLOTS="+strconv.Itoa(max(o.n, 9)),
	)
	if o.poll > 0 {
		env = append(env, "LEPUS_POLL_INTERVAL="+o.poll.String())
	}
	return env
}

// lepusProc is the running `lepus serve`.
type lepusProc struct {
	cmd       *exec.Cmd
	pid       int
	url       string // API base
	debugAddr string // LEPUS_DEBUG_ADDR
	logPath   string // its stderr
	exited    chan struct{}
}

// startLepus starts `lepus serve` and waits for the line saying where it
// serves. The child gets its own process group (a Ctrl-C reaches only us;
// stop kills it) and SIGKILL if this process dies without cleaning up.
func startLepus(ctx context.Context, bin string, env []string, tmp string) (*lepusProc, error) {
	debugAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(tmp, "lepus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(env, "LEPUS_DEBUG_ADDR="+debugAddr)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start lepus: %w", err)
	}
	p := &lepusProc{cmd: cmd, pid: cmd.Process.Pid, debugAddr: debugAddr, logPath: logPath, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.exited) }()

	select {
	case line := <-lines: // "lepus serving at http://127.0.0.1:PORT (live mode)"
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[3], "http://") {
			p.stop()
			return nil, fmt.Errorf("unexpected first line from lepus: %q", line)
		}
		p.url = f[3]
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("lepus exited at start:\n%s", p.logTail(30))
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, fmt.Errorf("lepus did not start within 60 s:\n%s", p.logTail(30))
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// stop asks the child to shut down and kills it if it has not within 5 s.
// It is safe to call twice.
func (p *lepusProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// cpu is the child's user+system CPU time so far.
func (p *lepusProc) cpu() time.Duration {
	c, _ := procCPU(p.pid, false)
	return c
}

// memory returns VmRSS and VmHWM of the child in KB, from /proc/<pid>/status.
func (p *lepusProc) memory() (rssKB, hwmKB int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rssKB = n
		} else {
			hwmKB = n
		}
	}
	if rssKB == 0 {
		return 0, 0, errors.New("no VmRSS in /proc status")
	}
	return rssKB, hwmKB, nil
}

// logTail returns the last n lines the child wrote to stderr.
func (p *lepusProc) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… %d earlier lines", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// harnessCPU is this process's own CPU time: the sandbox (which renders
// every result) and the clients share the two cores with lepus.
func harnessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
