package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// TestServe_AdminRiverUI boots lepus serve on each database and checks the
// River UI at /admin/river: refused (401) without an admin credential or
// with a wrong one, and with one its page and its jobs API answer, the
// latter listing the job of a task that just ran.
func TestServe_AdminRiverUI(t *testing.T) {
	t.Parallel()
	const adminToken = "admin-token-for-tests-0123"
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"LEPUS_ADMIN_TOKEN": adminToken}
			if dialect == sqlstore.DialectPostgres {
				if os.Getenv(sqlstoretest.EnvDatabaseURL) == "" {
					t.Skipf("%s is not set", sqlstoretest.EnvDatabaseURL)
				}
				env["LEPUS_DATABASE_URL"] = sqlstoretest.PostgresSchema(t)
			}
			s := startServe(t, env)
			tok := s.token(t, "admin-ui-"+dialect)
			adminJWT, err := s.signer.SignAdmin("ops", time.Hour)
			if err != nil {
				t.Fatal(err)
			}

			for _, path := range []string{"/admin/river/", "/admin/river/api/jobs?state=completed"} {
				for name, cred := range map[string]string{"none": "", "wrong": adminToken + "x", "user JWT": tok} {
					var p problemResp
					resp := s.do(t, "GET", path, cred, nil, nil, &p)
					if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/problem+json" || p.Status != 401 {
						t.Fatalf("GET %s with %s credential: %d %+v; want 401 problem+json", path, name, resp.StatusCode, p)
					}
				}
			}

			for name, cred := range map[string]string{"admin token": adminToken, "admin JWT": adminJWT} {
				resp := s.do(t, "GET", "/admin/river/", cred, nil, nil, nil)
				var page bytes.Buffer
				_, _ = page.ReadFrom(resp.Body)
				if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page.String(), "/admin/river") {
					t.Fatalf("River UI page with %s: %d %s %.200s", name, resp.StatusCode, resp.Header.Get("Content-Type"), page.String())
				}
			}

			// The other calls the UI's first page makes, on this database's
			// River UI driver.
			for _, path := range []string{"/admin/river/api/states", "/admin/river/api/queues", "/admin/river/api/features"} {
				var body map[string]any
				if resp := s.do(t, "GET", path, adminToken, nil, nil, &body); resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d %v", path, resp.StatusCode, body)
				}
			}

			done := s.run(t, tok, "/kling/text-to-video", map[string]any{"prompt": "a fox in the snow", "duration": "5"})
			// The task ends before River marks its job completed: wait for it.
			var jobs struct {
				Data []struct {
					ID    int64
					Kind  string
					State string
					Args  string
				}
			}
			waitUntil(t, "the task's job listed as completed in River UI", func() bool {
				resp := s.do(t, "GET", "/admin/river/api/jobs?state=completed&kinds=text_to_video", adminToken, nil, nil, &jobs)
				if resp.StatusCode != 200 {
					t.Fatalf("River UI jobs API: %d", resp.StatusCode)
				}
				for _, j := range jobs.Data {
					var args struct {
						TaskID string `json:"task_id"`
					}
					if json.Unmarshal([]byte(j.Args), &args) == nil && args.TaskID == done.ID && j.State == "completed" {
						return true
					}
				}
				return false
			})
		})
	}
}

// TestToken_Admin checks lepus token --admin signs a token the admin area
// accepts, and that a plain one is refused there.
func TestToken_Admin(t *testing.T) {
	t.Parallel()
	signer := startSigner(t)
	vars := map[string]string{"LEPUS_JWT_SECRET": testSecret, "LEPUS_DATA_DIR": t.TempDir()}
	for _, admin := range []bool{true, false} {
		args := []string{"token", "--user", "ops"}
		if admin {
			args = append(args, "--admin")
		}
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, func(k string) string { return vars[k] }, nil, &out, &errOut); err != nil {
			t.Fatalf("lepus %v: %v %s", args, err, errOut.String())
		}
		_, err := signer.VerifyAdmin(strings.TrimSpace(out.String()))
		if admin != (err == nil) {
			t.Fatalf("lepus %v: VerifyAdmin error %v", args, err)
		}
	}
}
