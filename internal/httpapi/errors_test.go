package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func TestProblem_Unavailable(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cause := fmt.Errorf("begin: dial tcp 10.0.0.7:5432: %w", syscall.ECONNREFUSED)
	err := problem(context.Background(), log, &lepus.Error{Code: lepus.EUnavailable, Message: "the database is unavailable", Err: cause})

	var se huma.StatusError
	if !errors.As(err, &se) || se.GetStatus() != http.StatusServiceUnavailable {
		t.Fatalf("problem = %#v, want a 503", err)
	}
	var he huma.HeadersError
	if !errors.As(err, &he) || he.GetHeaders().Get("Retry-After") != "5" {
		t.Fatalf("problem = %#v, want Retry-After: 5", err)
	}
	if msg, want := se.Error(), "the database is unavailable; try again shortly"; msg != want {
		t.Fatalf("detail %q, want %q", msg, want)
	}
	// An outage of another part says which.
	err = problem(context.Background(), slog.New(slog.DiscardHandler), &lepus.Error{Code: lepus.EUnavailable, Message: "file storage is unavailable", Err: cause})
	if !errors.As(err, &se) || se.Error() != "file storage is unavailable; try again shortly" {
		t.Fatalf("storage outage detail %q", se.Error())
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") || strings.Count(l, "\n") != 1 {
		t.Fatalf("want one WARN line, got %q", l)
	}
}

func TestProblem_Kinds(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"NotFound", lepus.Errorf(lepus.ENotFound, "task x not found"), http.StatusNotFound},
		{"Invalid", lepus.FieldErrorf("body.x", "is bad"), http.StatusUnprocessableEntity},
		{"Internal", errors.New("boom"), http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var se huma.StatusError
			if err := problem(context.Background(), log, tc.err); !errors.As(err, &se) || se.GetStatus() != tc.want {
				t.Fatalf("problem(%v) = %v, want %d", tc.err, err, tc.want)
			}
		})
	}
}
