package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// TestServe_CallbackWakesTask polls the provider only once a minute and
// the queue only once an hour, so the task can only finish within the
// test's time because events drive it: the create kicks the queue, Kling's
// callback (posted by the sandbox) or the batch poll wakes the waiting
// job, and every wake kicks the queue so a worker fetches it at once.
func TestServe_CallbackWakesTask(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"LEPUS_POLL_INTERVAL": "1m", "LEPUS_QUEUE_POLL_INTERVAL": "1h"}
			if dialect == sqlstore.DialectPostgres {
				env["LEPUS_DATABASE_URL"] = sqlstoretest.PostgresSchema(t)
			}
			s := startServe(t, env)
			tok := s.token(t, "cora")
			body := faceSwapBody(t, s, tok)
			body["generate_video"] = true
			var task taskResp
			if resp := s.postJSON(t, "/kling/face-swap", tok, body, nil, &task); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("create: %d", resp.StatusCode)
			}
			if last := s.openEvents(t, tok, task.ID).last(t); !isCompleted(last) {
				t.Fatalf("last event %s %s, want status completed", last.Name, last.Data)
			}
		})
	}
}

// TestServe_PrivateURLRefused: outside sandbox mode (or with
// LEPUS_ALLOW_PRIVATE_URLS off) an input URL on a private or loopback
// address is refused before anything is paid.
func TestServe_PrivateURLRefused(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"LEPUS_ALLOW_PRIVATE_URLS": "false"})
	tok := s.token(t, "pat")
	_, scene := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	for _, u := range []string{"http://127.0.0.1:9/face.png", "http://10.1.2.3/face.png", "http://localhost/face.png"} {
		var p problemResp
		resp := s.postJSON(t, "/kling/face-swap", tok, map[string]any{"source_image_url": scene.URL, "face_image_url": u}, nil, &p)
		if resp.StatusCode != 422 || !p.mentions("body.face_image_url") || !contains(problemText(p), "LEPUS_ALLOW_PRIVATE_URLS") {
			t.Fatalf("%s: %d %+v", u, resp.StatusCode, p)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
