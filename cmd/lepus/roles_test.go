package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sandbox"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// liveKeys points a process at a test-owned Kling sandbox with keys, as a
// live deployment points at Kling.
func liveKeys(t *testing.T, env map[string]string) (map[string]string, *sandbox.Sandbox) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{ImageLatency: 100 * time.Millisecond})
	t.Cleanup(sb.Close)
	provider := httptest.NewServer(sb)
	t.Cleanup(provider.Close)
	env["KLING_ACCESS_KEY"], env["KLING_SECRET_KEY"], env["KLING_BASE_URL"] = "sandbox-ak", "sandbox-sk", provider.URL
	env["LEPUS_ALLOW_PRIVATE_URLS"] = "1"
	return env, sb
}

// runOnce runs a subcommand to its end and returns its error.
func runOnce(t *testing.T, cmd string, env map[string]string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	return run(ctx, []string{cmd}, func(k string) string { return env[k] }, nil, io.Discard, testLog{t})
}

// startSplit runs lepus migrate on env's database, then starts a worker
// and an API on it, as a split deployment does; it returns the API.
func startSplit(t *testing.T, env map[string]string) *lepusServer {
	t.Helper()
	if err := runOnce(t, "migrate", env); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	startRole(t, "worker", env)
	return startRole(t, "api", env)
}

// The scale-out roles refuse what they cannot do, saying why.
func TestRoles_Refuse(t *testing.T) {
	t.Parallel()
	env, _ := liveKeys(t, map[string]string{"LEPUS_DATA_DIR": t.TempDir(), "LEPUS_ADDR": "127.0.0.1:0"})
	for _, cmd := range []string{"api", "worker"} {
		if err := runOnce(t, cmd, env); err == nil || !strings.Contains(err.Error(), "Postgres") {
			t.Errorf("lepus %s on SQLite: %v, want a refusal naming Postgres", cmd, err)
		}
	}
	env["LEPUS_DATABASE_URL"] = sqlstoretest.PostgresSchema(t) // fresh: not migrated
	for _, cmd := range []string{"api", "worker"} {
		if err := runOnce(t, cmd, env); err == nil || !strings.Contains(err.Error(), "needs LEPUS_PUBLIC_URL") {
			t.Errorf("lepus %s without LEPUS_PUBLIC_URL: %v, want a refusal naming it", cmd, err)
		}
	}
	env["LEPUS_PUBLIC_URL"] = "https://lepus.example.com"
	for _, cmd := range []string{"api", "worker"} {
		if err := runOnce(t, cmd, env); err == nil || !strings.Contains(err.Error(), "lepus migrate") {
			t.Errorf("lepus %s on an unmigrated database: %v, want a refusal naming lepus migrate", cmd, err)
		}
	}
	delete(env, "KLING_ACCESS_KEY")
	delete(env, "KLING_SECRET_KEY")
	if err := runOnce(t, "api", env); err == nil || !strings.Contains(err.Error(), "provider keys") {
		t.Errorf("lepus api without keys: %v, want a refusal naming the keys", err)
	}
}

// One lepus migrate, then an API process and a worker process on one
// Postgres: a face swap created through the API is run by the worker, and
// the API's event stream sees it complete.
func TestRoles_APIAndWorker(t *testing.T) {
	t.Parallel()
	env, sb := liveKeys(t, map[string]string{"LEPUS_DATABASE_URL": sqlstoretest.PostgresSchema(t)})
	api := startSplit(t, env)
	tok := api.token(t, "rolf")
	var task taskResp
	if resp := api.postJSON(t, "/kling/face-swap", tok, faceSwapBody(t, api, tok), nil, &task); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if last := api.openEvents(t, tok, task.ID).last(t); !isCompleted(last) {
		t.Fatalf("last event %s %s, want status completed", last.Name, last.Data)
	}
	if n := sb.Submissions(task.ID + "-image"); n != 1 {
		t.Fatalf("%d submissions, want 1", n)
	}
}
