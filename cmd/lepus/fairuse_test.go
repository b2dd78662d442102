package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// linkedTask is a task with its links.
type linkedTask struct {
	taskResp
	URLs struct{ Get, Cancel, Events string }
}

// TestServe_PreferWait: Prefer: wait=60 returns a finished face swap in
// one call, 201 with Preference-Applied, and its links work.
func TestServe_PreferWait(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if dialect == sqlstore.DialectPostgres {
				env["LEPUS_DATABASE_URL"] = sqlstoretest.PostgresSchema(t)
			}
			s := startServe(t, env)
			tok := s.token(t, "wanda")
			body := faceSwapBody(t, s, tok)

			var done linkedTask
			resp := s.postJSON(t, "/kling/face-swap", tok, body, map[string]string{"Prefer": "wait=60"}, &done)
			if resp.StatusCode != http.StatusCreated || resp.Header.Get("Preference-Applied") != "wait=60" ||
				done.Status != "completed" || len(done.Assets) == 0 {
				t.Fatalf("create with Prefer: wait=60: %d, Preference-Applied %q, task %+v",
					resp.StatusCode, resp.Header.Get("Preference-Applied"), done.taskResp)
			}

			// Links: absolute, on the server's base, and they work.
			base := s.url + "/tasks/" + done.ID
			if done.URLs.Get != base || done.URLs.Cancel != base+"/cancel" || done.URLs.Events != base+"/events" {
				t.Fatalf("urls %+v, want them under %s", done.URLs, base)
			}
			var got linkedTask
			if resp := doURL(t, "GET", done.URLs.Get, tok, nil, nil, &got); resp.StatusCode != 200 || got.ID != done.ID ||
				got.Status != "completed" || got.URLs != done.URLs {
				t.Fatalf("GET urls.get: %d %+v", resp.StatusCode, got)
			}
			// The task ended: the stream says so and ends.
			if last := openEventsURL(t, done.URLs.Events, tok).last(t); !isCompleted(last) {
				t.Fatalf("last event of urls.events: %s %s, want status completed", last.Name, last.Data)
			}
			if resp := doURL(t, "POST", done.URLs.Cancel, tok, nil, nil, nil); resp.StatusCode != http.StatusConflict {
				t.Fatalf("POST urls.cancel of an ended task: %d, want 409", resp.StatusCode)
			}
			var list struct{ Tasks []linkedTask }
			s.do(t, "GET", "/tasks", tok, nil, nil, &list)
			if len(list.Tasks) != 1 || list.Tasks[0].URLs != done.URLs {
				t.Fatalf("list: %+v", list.Tasks)
			}

			// Other preferences are ignored; a malformed wait is a 422 naming the header.
			var plain linkedTask
			resp = s.postJSON(t, "/kling/face-swap", tok, body, map[string]string{"Prefer": "respond-async"}, &plain)
			if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Preference-Applied") != "" || plain.URLs.Get == "" {
				t.Fatalf("Prefer: respond-async: %d, Preference-Applied %q, %+v", resp.StatusCode, resp.Header.Get("Preference-Applied"), plain)
			}
			for _, bad := range []string{"wait=61", "wait=0", "wait=soon"} {
				var p problemResp
				resp := s.postJSON(t, "/kling/face-swap", tok, body, map[string]string{"Prefer": bad}, &p)
				if resp.StatusCode != http.StatusUnprocessableEntity || !p.mentions("header.Prefer") {
					t.Fatalf("Prefer: %s: %d %+v, want 422 naming header.Prefer", bad, resp.StatusCode, p)
				}
			}
		})
	}
}

// TestServe_PreferWaitTimesOut: a task that does not end within the wait
// is answered 202 as it is, after the wait.
func TestServe_PreferWaitTimesOut(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"SANDBOX_IMAGE_LATENCY": "1h"})
	tok := s.token(t, "walt")
	body := faceSwapBody(t, s, tok)
	start := time.Now()
	var task linkedTask
	resp := s.postJSON(t, "/kling/face-swap", tok, body, map[string]string{"Prefer": "wait=1"}, &task)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Preference-Applied") != "wait=1" ||
		(task.Status != "pending" && task.Status != "processing") {
		t.Fatalf("slow task with Prefer: wait=1: %d, Preference-Applied %q, %+v", resp.StatusCode, resp.Header.Get("Preference-Applied"), task.taskResp)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("answered after %s; Prefer: wait=1 holds the answer a second", took)
	}
}

// TestRoles_PreferWait: on Postgres with separate API and worker
// processes, the API hears of the end the worker commits through NOTIFY:
// with the periodic re-read an hour apart, nothing else could end the
// wait within its 60 s.
func TestRoles_PreferWait(t *testing.T) {
	t.Parallel()
	env, _ := liveKeys(t, map[string]string{
		"LEPUS_DATABASE_URL":   sqlstoretest.PostgresSchema(t),
		"LEPUS_EVENTS_RECHECK": "1h",
	})
	api := startSplit(t, env)
	tok := api.token(t, "wren")
	var done linkedTask
	resp := api.postJSON(t, "/kling/face-swap", tok, faceSwapBody(t, api, tok), map[string]string{"Prefer": "wait=60"}, &done)
	if resp.StatusCode != http.StatusCreated || done.Status != "completed" {
		t.Fatalf("create with Prefer: wait=60 on the API process: %d %+v", resp.StatusCode, done.taskResp)
	}
}

// TestServe_RateLimit: past its burst a user is answered 429 with
// Retry-After; other users and unauthenticated probes are not affected.
func TestServe_RateLimit(t *testing.T) {
	t.Parallel()
	// One request per 100 s after a burst of 3: no token comes back
	// within the test.
	s := startServe(t, map[string]string{"LEPUS_RATE_LIMIT": "0.01", "LEPUS_RATE_BURST": "3"})
	tok := s.token(t, "rita")
	for i := range 3 {
		if resp := s.do(t, "GET", "/credits", tok, nil, nil, nil); resp.StatusCode != 200 {
			t.Fatalf("request %d of the burst: %d", i+1, resp.StatusCode)
		}
	}
	var p problemResp
	resp := s.do(t, "GET", "/credits", tok, nil, nil, &p)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || retry < 1 || retry > 100 ||
		!strings.Contains(p.Detail, "rate limit") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("over the rate: %d, Retry-After %q, %q, %+v", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), p)
	}
	if resp := s.do(t, "GET", "/credits", s.token(t, "other"), nil, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("another user: %d", resp.StatusCode)
	}
	if resp := s.do(t, "GET", "/healthz", "", nil, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

// TestServe_InFlightCap: with a cap of 1 and a slow provider, a user's
// second create is a 429 naming the cap, debits nothing, and goes through
// once the first task ends.
func TestServe_InFlightCap(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"LEPUS_MAX_IN_FLIGHT": "1", "SANDBOX_IMAGE_LATENCY": "1h"}
			if dialect == sqlstore.DialectPostgres {
				env["LEPUS_DATABASE_URL"] = sqlstoretest.PostgresSchema(t)
			}
			s := startServe(t, env)
			tok := s.token(t, "ivan")
			body := faceSwapBody(t, s, tok)
			var first linkedTask
			if resp := s.postJSON(t, "/kling/face-swap", tok, body, nil, &first); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("first create: %d", resp.StatusCode)
			}
			var before, after struct{ Balance int }
			s.do(t, "GET", "/credits", tok, nil, nil, &before)
			var p problemResp
			resp := s.postJSON(t, "/kling/face-swap", tok, body, nil, &p)
			if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(p.Detail, "the cap is 1") ||
				!strings.Contains(p.Detail, "you have 1 unfinished") {
				t.Fatalf("second create: %d %+v, want 429 naming the cap and the count", resp.StatusCode, p)
			}
			s.do(t, "GET", "/credits", tok, nil, nil, &after)
			if after.Balance != before.Balance {
				t.Fatalf("balance %d → %d: a refused create debited", before.Balance, after.Balance)
			}
			if resp := s.postJSON(t, "/kling/face-swap", s.token(t, "jane"), faceSwapBody(t, s, s.token(t, "jane")), nil, nil); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("another user's create: %d", resp.StatusCode)
			}
			if resp := doURL(t, "POST", first.URLs.Cancel, tok, nil, nil, nil); resp.StatusCode != 200 {
				t.Fatalf("cancel the first: %d", resp.StatusCode)
			}
			if resp := s.postJSON(t, "/kling/face-swap", tok, body, nil, nil); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("create after the first ended: %d", resp.StatusCode)
			}
		})
	}
}
