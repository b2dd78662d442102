package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/app/apptest"
)

// appAPI is the whole API over a real app.Service on a real SQLite store
// (apptest), behind a real server; setup's token is user ana's.
type appAPI struct {
	*testBundle
	app *apptest.Bundle
}

// newAppAPI builds an appAPI; adjust, if set, changes the service before
// the first request.
func newAppAPI(t *testing.T, adjust func(*app.Service)) *appAPI {
	t.Helper()
	b := apptest.New(t)
	if adjust != nil {
		adjust(b.Service)
	}
	return &appAPI{testBundle: setup(t, Deps{App: b.Service}), app: b}
}

// request is one call to the API.
type request struct {
	method, path string
	body         any               // JSON-encoded unless nil
	header       map[string]string // added to the request
	noAuth       bool              // send no bearer token
}

// do sends r and returns the answer with its body read.
func (a *appAPI) do(t *testing.T, r request) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		data, err := json.Marshal(r.body)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(r.method, a.srv.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !r.noAuth {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// problemBody is an RFC 9457 problem as huma writes it.
type problemBody struct {
	Status int
	Title  string
	Detail string
	Errors []struct{ Location, Message string }
}

// wantProblem fails t unless the answer is a problem+json of status that
// names location among its errors (when location is not "").
func wantProblem(t *testing.T, resp *http.Response, body []byte, status int, location string) problemBody {
	t.Helper()
	var p problemBody
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != status || ct != "application/problem+json" {
		t.Fatalf("answer %d %s: %s; want %d application/problem+json", resp.StatusCode, ct, body, status)
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Status != status {
		t.Fatalf("problem %s (%v), want status %d in it", body, err, status)
	}
	if location == "" {
		return p
	}
	for _, e := range p.Errors {
		if e.Location == location {
			return p
		}
	}
	t.Fatalf("problem %s does not name %s", body, location)
	return p
}

// taskBody decodes a TaskView answer.
func taskBody(t *testing.T, body []byte) TaskView {
	t.Helper()
	var v TaskView
	if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
		t.Fatalf("task answer %s: %v", body, err)
	}
	return v
}
