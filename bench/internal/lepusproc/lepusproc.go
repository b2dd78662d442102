// Package lepusproc builds cmd/lepus and runs `lepus serve` as a child
// process for the benchmarks, so the process measured is the real binary.
package lepusproc

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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Build builds cmd/lepus into dir, so the measured process is the real
// binary and not `go run`'s wrapper. It also returns the commit built.
func Build(ctx context.Context, dir string) (bin, rev string, err error) {
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

// BaseEnv is our environment without any LEPUS_, KLING_ or SANDBOX_
// variable: the benchmark adds its own settings.
func BaseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEPUS_") && !strings.HasPrefix(kv, "KLING_") && !strings.HasPrefix(kv, "SANDBOX_") {
			env = append(env, kv)
		}
	}
	return env
}

// SandboxEnv is BaseEnv plus what every single-process run gives `lepus
// serve`: its data dir <tmp>/data, the database (dbURL; "" is SQLite in the
// data dir), the JWT secret, private URLs allowed (the sandbox and the
// uploads are on loopback), warn-level logs, the fair-use limits off (one
// user sends every request), and Kling pointed at the sandbox at
// providerURL. The caller adds the rest (LEPUS_ADDR, starting credits,
// slots).
func SandboxEnv(tmp, dbURL, providerURL, secret string) []string {
	return append(BaseEnv(),
		"LEPUS_DATA_DIR="+filepath.Join(tmp, "data"),
		"LEPUS_DATABASE_URL="+dbURL,
		"LEPUS_JWT_SECRET="+secret,
		"LEPUS_ALLOW_PRIVATE_URLS=1",
		"LEPUS_LOG_LEVEL=warn",
		"LEPUS_RATE_LIMIT=0", "LEPUS_MAX_IN_FLIGHT=0",
		"KLING_ACCESS_KEY=sandbox-ak", "KLING_SECRET_KEY=sandbox-sk", "KLING_BASE_URL="+providerURL,
	)
}

// Proc is the running `lepus serve`.
type Proc struct {
	cmd       *exec.Cmd
	PID       int
	URL       string // the URL it says it serves at (LEPUS_PUBLIC_URL when set)
	DebugAddr string // LEPUS_DEBUG_ADDR
	LogPath   string // its stderr
	exited    chan struct{}
}

// Start starts `lepus serve` and waits for the line saying where it
// serves. The child gets its own process group (a Ctrl-C reaches only us;
// Stop kills it) and SIGKILL if this process dies without cleaning up.
func Start(ctx context.Context, bin string, env []string, tmp string) (*Proc, error) {
	return StartRole(ctx, bin, "serve", "lepus.log", env, tmp)
}

// StartRole is Start for any role: "serve", "api", or "worker" (which
// serves no HTTP, so its URL stays empty). Its stderr goes to tmp/logName.
// env must hold LEPUS_PUBLIC_URL for api and worker, which refuse to start
// without it.
func StartRole(ctx context.Context, bin, role, logName string, env []string, tmp string) (*Proc, error) {
	if role != "serve" && !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "LEPUS_PUBLIC_URL=") }) {
		return nil, fmt.Errorf("lepus %s needs LEPUS_PUBLIC_URL in its environment", role)
	}
	debugAddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(tmp, logName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, role)
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
	p := &Proc{cmd: cmd, PID: cmd.Process.Pid, DebugAddr: debugAddr, LogPath: logPath, exited: make(chan struct{})}
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
		if role == "worker" && strings.HasPrefix(line, "lepus worker running") {
			return p, nil
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[3], "http://") {
			p.Stop()
			return nil, fmt.Errorf("unexpected first line from lepus: %q", line)
		}
		p.URL = f[3]
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("lepus exited at start:\n%s", p.LogTail(30))
	case <-time.After(60 * time.Second):
		p.Stop()
		return nil, fmt.Errorf("lepus did not start within 60 s:\n%s", p.LogTail(30))
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
}

// Stop asks the child to shut down and kills it if it has not within 5 s.
// It is safe to call twice.
func (p *Proc) Stop() {
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

// Exited is closed once the child has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Memory returns VmRSS and VmHWM of the child in KB, from /proc/<pid>/status.
func (p *Proc) Memory() (rssKB, hwmKB int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
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

// LogTail returns the last n lines the child wrote to stderr.
func (p *Proc) LogTail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… %d earlier lines", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// RandomHex returns 2n random hex digits.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
