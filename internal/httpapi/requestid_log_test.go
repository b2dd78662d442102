package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/auth"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/logging"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// brokenTaskStore is a real store whose task reads fail with an error no
// domain kind covers: the handler answers 500 and logs it.
type brokenTaskStore struct{ lepus.Store }

func (brokenTaskStore) TaskGet(context.Context, string) (*lepus.Task, error) {
	return nil, errors.New("decode task: unexpected end of JSON input")
}

// TestProblem_LogsRequestID: the "internal error" line of a 500 carries
// the request's id, as the access line does.
func TestProblem_LogsRequestID(t *testing.T) {
	t.Parallel()
	store, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
	signer, err := auth.NewSigner([]byte("test-secret-test-secret-test-secret-0123"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign("ana", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	logs := newSyncBuffer()
	logger, err := logging.New(logs, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(Deps{App: &app.Service{Store: brokenTaskStore{store}, Logger: logger},
		Auth: signer, Logger: logger, Version: "test"}))
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/tasks/tsk_1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-Id", "req-internal-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	// problem logs before the answer is written, so the line is there.
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "internal error" {
			found = true
			if rec["request_id"] != "req-internal-1" {
				t.Errorf("internal error line %v lacks request_id req-internal-1", rec)
			}
		}
	}
	if !found {
		t.Fatalf("no internal error line in %s", logs.String())
	}
}
