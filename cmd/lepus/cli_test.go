package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/cli"
)

// runCLI runs a client command of the binary against s with token, and
// returns its standard output and error output.
func runCLI(t *testing.T, s *lepusServer, token string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, cliEnv(s, token), nil, &out, &errOut)
	return out.String(), errOut.String(), err
}

func cliEnv(s *lepusServer, token string) func(string) string {
	return func(k string) string {
		switch k {
		case "LEPUS_SERVER":
			return s.url
		case "LEPUS_TOKEN":
			return token
		}
		return ""
	}
}

// writeSamples writes `lepus samples` inputs into a temporary directory.
func writeSamples(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := run(context.Background(), []string{"samples", dir}, func(string) string { return "" }, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	return dir
}

var taskLine = regexp.MustCompile(`(?m)^task\s+(tsk_\S+) `)

func TestCLI_SubmitWaitDownloadsFaceSwap(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	token := s.token(t, "cli-alice")
	in, out := writeSamples(t), t.TempDir()

	stdout, stderr, err := runCLI(t, s, token, "submit", "face-swap",
		"--file", "source_image_url="+filepath.Join(in, "scene.png"),
		"--file", "face_image_url="+filepath.Join(in, "face.png"),
		"--set", "resolution=1k", "--wait", "--out", out)
	if err != nil {
		t.Fatalf("submit: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, token) {
		t.Fatal("the token was printed")
	}
	// stdout is not a terminal: plain progress lines, the last at 100%.
	if !regexp.MustCompile(`(?m)^completed\s+100% `).MatchString(stdout) {
		t.Fatalf("no plain progress line reaching 100%%:\n%s", stdout)
	}
	if !regexp.MustCompile(`(?m)^idempotency key cli-[0-9a-f]{32}$`).MatchString(stdout) {
		t.Fatalf("no idempotency key printed:\n%s", stdout)
	}
	m := taskLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no task line:\n%s", stdout)
	}
	id := m[1]

	files, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(files) != 1 {
		t.Fatalf("downloaded %v, want one PNG\nstdout:\n%s", files, stdout)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", files[0], err)
	}
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 300 {
		t.Fatalf("result is %v", b)
	}

	t.Run("tasks", func(t *testing.T) {
		stdout, _, err := runCLI(t, s, token, "tasks")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stdout, "ID ") || !regexp.MustCompile(`(?m)^`+id+`\s+face_swap\s+completed\s+100%`).MatchString(stdout) {
			t.Fatalf("tasks:\n%s", stdout)
		}
	})
	var cost int
	t.Run("task", func(t *testing.T) {
		stdout, _, err := runCLI(t, s, token, "task", id)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{id, "completed (100%", "results:", "image/png"} {
			if !strings.Contains(stdout, want) {
				t.Fatalf("task summary lacks %q:\n%s", want, stdout)
			}
		}
		stdout, _, err = runCLI(t, s, token, "task", id, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var got taskResp
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.ID != id || got.Status != "completed" || len(got.Assets) != 1 {
			t.Fatalf("task --json: %v\n%s", err, stdout)
		}
		cost = got.Cost
	})
	t.Run("credits", func(t *testing.T) {
		stdout, _, err := runCLI(t, s, token, "credits")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%d credits\n", 1000-cost); cost == 0 || stdout != want {
			t.Fatalf("credits = %q, want %q", stdout, want)
		}
	})
	t.Run("cancel an ended task is a 409, exit 2", func(t *testing.T) {
		_, _, err := runCLI(t, s, token, "cancel", id)
		if code := exitCode(err); code != cli.ExitAPI || !strings.Contains(err.Error(), "(409)") {
			t.Fatalf("exit %d, %v", code, err)
		}
	})
	t.Run("another user cannot see it", func(t *testing.T) {
		_, _, err := runCLI(t, s, s.token(t, "cli-mallory"), "task", id)
		if code := exitCode(err); code != cli.ExitAPI || !strings.Contains(err.Error(), "(404)") {
			t.Fatalf("exit %d, %v", code, err)
		}
	})
}

func TestCLI_SubmitInvalidShowsFieldsExit2(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	token := s.token(t, "cli-bob")
	stdout, stderr, err := runCLI(t, s, token, "submit", "face-swap",
		"--set", "source_image_url=http://127.0.0.1:9/a.png", "--set", "resolution=8k")
	if code := exitCode(err); code != cli.ExitAPI {
		t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, cli.ExitAPI, stdout, stderr)
	}
	msg := err.Error()
	for _, want := range []string{"Unprocessable Entity (422)", "validation failed", "face_image_url", "body.resolution: "} {
		if !strings.Contains(msg, want) {
			t.Fatalf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(stdout+stderr+msg, token) {
		t.Fatal("the token was printed")
	}
}

func TestCLI_UsageAndNetworkExitCodes(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	token := s.token(t, "cli-carol")

	_, stderr, err := runCLI(t, s, token, "submit", "no-such-workflow")
	if code := exitCode(err); code != cli.ExitUsage {
		t.Fatalf("unknown workflow: exit %d, %v", code, err)
	}
	// The list comes from the server's OpenAPI document.
	for _, want := range []string{"face-swap", "image-to-video", "skin-enhance", "outfit-shot"} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("workflow list lacks %s:\n%s", want, stderr)
		}
	}
	if _, _, err := runCLI(t, s, "", "credits"); exitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "LEPUS_TOKEN") {
		t.Fatalf("no token: exit %d, %v", exitCode(err), err)
	}
	if _, _, err := runCLI(t, s, "not-a-jwt", "credits"); exitCode(err) != cli.ExitAPI || !strings.Contains(err.Error(), "(401)") {
		t.Fatalf("bad token: exit %d, %v", exitCode(err), err)
	}
	if _, _, err := runCLI(t, s, token, "submit", "face-swap", "--file", "source_image_url=/nonexistent.png"); exitCode(err) != cli.ExitUsage {
		t.Fatalf("missing file: exit %d, %v", exitCode(err), err)
	}
	down := &lepusServer{url: "http://127.0.0.1:1"}
	if _, _, err := runCLI(t, down, token, "credits"); exitCode(err) != cli.ExitServer || strings.Contains(err.Error(), token) {
		t.Fatalf("unreachable server: exit %d, %v", exitCode(err), err)
	}
}

func TestCLI_CancelEndsAWaitingSubmitExit4(t *testing.T) {
	t.Parallel()
	// Results take an hour: the task is still running when it is canceled.
	s := startServe(t, map[string]string{"SANDBOX_IMAGE_LATENCY": "1h"})
	token := s.token(t, "cli-dave")
	in := writeSamples(t)

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(context.Background(), []string{"submit", "face-swap",
			"--file", "source_image_url=" + filepath.Join(in, "scene.png"),
			"--file", "face_image_url=" + filepath.Join(in, "face.png"), "--wait", "--out", t.TempDir()},
			cliEnv(s, token), nil, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	// Read until the task is created, then keep the rest.
	br := bufio.NewReader(pr)
	var seen strings.Builder
	var id string
	for id == "" {
		line, err := br.ReadString('\n')
		seen.WriteString(line)
		if err != nil {
			t.Fatalf("submit ended before creating a task: %v\n%s\n%v", err, seen.String(), <-done)
		}
		if m := taskLine.FindStringSubmatch(line); m != nil {
			id = m[1]
		}
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(br); rest <- string(b) }()

	stdout, _, err := runCLI(t, s, token, "cancel", id)
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if !strings.Contains(stdout, "task "+id+" canceled") {
		t.Fatalf("cancel said %q", stdout)
	}
	err = <-done
	if code := exitCode(err); code != cli.ExitTask || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("submit: exit %d, %v\n%s%s", code, err, seen.String(), <-rest)
	}
	if out := <-rest; !regexp.MustCompile(`(?m)^canceled `).MatchString(out) {
		t.Fatalf("progress did not show the cancel:\n%s%s", seen.String(), out)
	}
	stdout, _, err = runCLI(t, s, token, "credits")
	if err != nil || stdout != "1000 credits\n" {
		t.Fatalf("credits after the refund: %q, %v", stdout, err)
	}
}
