package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// faultStore is the real store with TaskGet answering err: a way to reach
// every error kind through a real handler.
type faultStore struct {
	lepus.Store
	err error
}

func (s faultStore) TaskGet(context.Context, string) (*lepus.Task, error) { return nil, s.err }

// Every domain error kind is answered with its one status as problem+json,
// naming the field when the error does; causes never reach the client.
func TestProblem_HTTPKinds(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp 10.1.2.3:5432: secret cause")
	for _, tc := range []struct {
		name   string
		err    error
		status int
		detail string
	}{
		{"Invalid", &lepus.Error{Code: lepus.EInvalid, Field: "query.x", Message: "is bad"}, 422, "is bad"},
		{"NotFound", lepus.Errorf(lepus.ENotFound, "task t not found"), 404, "task t not found"},
		{"Conflict", &lepus.Error{Code: lepus.EConflict, Field: "header.Idempotency-Key", Message: "used"}, 409, "used"},
		{"Credits", lepus.Errorf(lepus.ECredits, "insufficient credits"), 402, "insufficient credits"},
		{"Auth", lepus.Errorf(lepus.EAuth, "who are you"), 401, "who are you"},
		{"Limit", lepus.Errorf(lepus.ELimit, "slow down"), 429, "slow down"},
		{"Unavailable", &lepus.Error{Code: lepus.EUnavailable, Message: "the database is unavailable", Err: cause}, 503,
			"the database is unavailable; try again shortly"},
		{"Internal", &lepus.Error{Code: lepus.EInternal, Message: "secret cause", Err: cause}, 500, "internal error"},
		{"UnknownKind", &lepus.Error{Code: "weird", Message: "secret cause"}, 500, "internal error"},
		{"Plain", cause, 500, "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAppAPI(t, func(s *app.Service) { s.Store = faultStore{s.Store, tc.err} })
			resp, body := a.do(t, request{method: http.MethodGet, path: "/tasks/tsk_x"})
			var le *lepus.Error
			field := ""
			if errors.As(tc.err, &le) {
				field = le.Field
			}
			p := wantProblem(t, resp, body, tc.status, field)
			if p.Detail != tc.detail {
				t.Errorf("detail %q, want %q", p.Detail, tc.detail)
			}
			if strings.Contains(string(body), "secret") || strings.Contains(string(body), "10.1.2.3") {
				t.Errorf("the answer leaks the cause: %s", body)
			}
			if got := resp.Header.Get("Retry-After"); (tc.status == 503) != (got == "5") {
				t.Errorf("Retry-After %q on a %d", got, tc.status)
			}
		})
	}
}

// The same mapping reached the ordinary way: each refusal a client can
// provoke, with its status and the field it names.
func TestProblem_HTTPPaths(t *testing.T) {
	t.Parallel()
	ttv := map[string]any{"prompt": "a cat"}
	for _, tc := range []struct {
		name     string
		adjust   func(*app.Service)
		prep     func(t *testing.T, a *appAPI) request
		status   int
		location string
	}{
		{name: "NoToken", status: 401, prep: func(*testing.T, *appAPI) request {
			return request{method: http.MethodPost, path: "/kling/text-to-video", body: ttv, noAuth: true}
		}},
		{name: "UnknownTask", status: 404, prep: func(*testing.T, *appAPI) request {
			return request{method: http.MethodGet, path: "/tasks/tsk_nope"}
		}},
		{name: "OthersTask", status: 404, prep: func(t *testing.T, a *appAPI) request {
			return request{method: http.MethodGet, path: "/tasks/" + createAs(t, a, "bob").ID}
		}},
		{name: "SchemaRefused", status: 422, location: "body.prompt", prep: func(*testing.T, *appAPI) request {
			return request{method: http.MethodPost, path: "/kling/text-to-video", body: map[string]any{"prompt": ""}}
		}},
		{name: "InputRefused", status: 422, location: "body.image_url", prep: func(*testing.T, *appAPI) request {
			return request{method: http.MethodPost, path: "/kling/image-to-video", body: map[string]any{"image_url": "ftp://example.com/a.png"}}
		}},
		{name: "InputUnreachable", status: 422, location: "body.image_url", prep: func(_ *testing.T, a *appAPI) request {
			return request{method: http.MethodPost, path: "/kling/image-to-video", body: map[string]any{"image_url": a.app.MissingURL()}}
		}},
		{name: "KeyTooLong", status: 422, location: "header.Idempotency-Key", prep: func(*testing.T, *appAPI) request {
			return request{method: http.MethodPost, path: "/kling/text-to-video", body: ttv, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}}
		}},
		{name: "ListUnknownType", status: 422, location: "query.type", prep: func(*testing.T, *appAPI) request {
			return request{method: http.MethodGet, path: "/tasks?type=nope"}
		}},
		{name: "ShortBalance", status: 402, adjust: func(s *app.Service) { s.Grant = 1 }, prep: func(*testing.T, *appAPI) request {
			return request{method: http.MethodPost, path: "/kling/text-to-video", body: ttv}
		}},
		{name: "InFlight", status: 429, adjust: func(s *app.Service) { s.MaxInFlight = 1 }, prep: func(t *testing.T, a *appAPI) request {
			createAs(t, a, "ana")
			return request{method: http.MethodPost, path: "/kling/text-to-video", body: ttv}
		}},
		{name: "CancelEnded", status: 409, prep: func(t *testing.T, a *appAPI) request {
			task := createAs(t, a, "ana")
			if _, err := a.app.Service.CancelTask(context.Background(), "ana", task.ID); err != nil {
				t.Fatal(err)
			}
			return request{method: http.MethodPost, path: "/tasks/" + task.ID + "/cancel"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAppAPI(t, tc.adjust)
			resp, body := a.do(t, tc.prep(t, a))
			wantProblem(t, resp, body, tc.status, tc.location)
		})
	}
}

// createAs creates a text-to-video task of user through the service.
func createAs(t *testing.T, a *appAPI, user string) *lepus.Task {
	t.Helper()
	task, _, err := a.app.Service.CreateTask(context.Background(), app.CreateTaskParams{UserID: user, Type: "text_to_video",
		Request: &workflow.TextToVideoRequest{Prompt: "a dog"}})
	if err != nil {
		t.Fatal(err)
	}
	return task
}
