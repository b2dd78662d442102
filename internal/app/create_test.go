package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/app/apptest"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// textToVideo is a create that needs no input file.
func textToVideo(user, key, prompt string) app.CreateTaskParams {
	return app.CreateTaskParams{UserID: user, Type: "text_to_video", IdempotencyKey: key,
		Request: &workflow.TextToVideoRequest{Prompt: prompt}}
}

// wantError fails t unless err is a *lepus.Error of kind code naming field
// ("" for none).
func wantError(t *testing.T, err error, code, field string) *lepus.Error {
	t.Helper()
	var le *lepus.Error
	if !errors.As(err, &le) || le.Code != code || le.Field != field {
		t.Fatalf("error = %v, want %s naming %q", err, code, field)
	}
	return le
}

func TestService_CreateTask_Idempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OKReplay", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		first, created, err := b.Service.CreateTask(ctx, textToVideo("ana", "k1", "a cat"))
		if err != nil || !created {
			t.Fatalf("first create: created %v, %v", created, err)
		}
		again, created, err := b.Service.CreateTask(ctx, textToVideo("ana", "k1", "a cat"))
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("replay: task %v created %v err %v, want task %s not created", again, created, err, first.ID)
		}
		if got, want := b.Balance(t, "ana"), apptest.Grant-first.Cost; got != want {
			t.Fatalf("balance %d after a create and its replay, want %d (one debit)", got, want)
		}
		// A key is per user: another user's same key starts its own task.
		other, created, err := b.Service.CreateTask(ctx, textToVideo("bob", "k1", "a cat"))
		if err != nil || !created || other.ID == first.ID {
			t.Fatalf("another user's key: task %v created %v err %v", other, created, err)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		if _, _, err := b.Service.CreateTask(ctx, textToVideo("ana", "k1", "a cat")); err != nil {
			t.Fatal(err)
		}
		_, _, err := b.Service.CreateTask(ctx, textToVideo("ana", "k1", "a dog"))
		wantError(t, err, lepus.EConflict, "header.Idempotency-Key")
		tasks, _, err := b.Service.ListTasks(ctx, &lepus.TaskListParams{UserID: "ana"})
		if err != nil || len(tasks) != 1 {
			t.Fatalf("tasks %d (%v), want the first only", len(tasks), err)
		}
	})

	t.Run("ErrKey", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		for _, key := range []string{strings.Repeat("k", 256), "caf\xe9", "line\nbreak"} {
			_, _, err := b.Service.CreateTask(ctx, textToVideo("ana", key, "a cat"))
			wantError(t, err, lepus.EInvalid, "header.Idempotency-Key")
		}
	})
}

// A short balance is refused before anything is written.
func TestService_CreateTask_ShortBalance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.New(t)
	b.Service.Grant = 1 // below any workflow's cost
	_, _, err := b.Service.CreateTask(ctx, textToVideo("ana", "", "a cat"))
	wantError(t, err, lepus.ECredits, "")
	if got := b.Balance(t, "ana"); got != 1 {
		t.Fatalf("balance %d, want 1", got)
	}
	if tasks, _, err := b.Service.ListTasks(ctx, &lepus.TaskListParams{UserID: "ana"}); err != nil || len(tasks) != 0 {
		t.Fatalf("tasks %v (%v), want none", tasks, err)
	}
}

// At the in-flight cap a new task is ELimit, but a replay is still answered.
func TestService_CreateTask_MaxInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.New(t)
	b.Service.MaxInFlight = 1
	first, _, err := b.Service.CreateTask(ctx, textToVideo("ana", "k1", "a cat"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = b.Service.CreateTask(ctx, textToVideo("ana", "k2", "a dog"))
	wantError(t, err, lepus.ELimit, "")
	again, created, err := b.Service.CreateTask(ctx, textToVideo("ana", "k1", "a cat"))
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("replay at the cap: %v created %v err %v", again, created, err)
	}
}

func TestService_CreateTask_Refused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		set         func(*app.Service)
		p           app.CreateTaskParams
		code, field string
	}{
		{"ErrUnknownWorkflow", nil, app.CreateTaskParams{UserID: "ana", Type: "nope", Request: &workflow.TextToVideoRequest{}}, lepus.ENotFound, ""},
		{"ErrNormalize", nil, textToVideo("ana", "", ""), lepus.EInvalid, "body.prompt"},
		{"ErrProviderUnavailable", func(s *app.Service) {
			s.Unavailable = map[string]string{workflow.ProviderKling: "Kling is not configured"}
		},
			textToVideo("ana", "", "a cat"), lepus.EInvalid, ""},
		{"ErrSlotsN", func(s *app.Service) { s.Slots = map[string]int{workflow.PoolKlingImage: 4} },
			app.CreateTaskParams{UserID: "ana", Type: "image_generation", Request: &workflow.ImageGenerationRequest{Prompt: "a cat", N: 6}},
			lepus.EInvalid, "body.n"},
		{"ErrWebhookURL", nil, app.CreateTaskParams{UserID: "ana", Type: "text_to_video", Request: &workflow.TextToVideoRequest{Prompt: "a cat"},
			Webhook: app.Webhook{URL: "ftp://hooks.example"}}, lepus.EInvalid, "body.webhook"},
		{"ErrWebhookEvent", nil, app.CreateTaskParams{UserID: "ana", Type: "text_to_video", Request: &workflow.TextToVideoRequest{Prompt: "a cat"},
			Webhook: app.Webhook{URL: "https://hooks.example/x", Events: []string{lepus.WebhookCompleted, "nope"}}}, lepus.EInvalid, "body.webhook_events_filter[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := apptest.New(t)
			if tc.set != nil {
				tc.set(b.Service)
			}
			_, _, err := b.Service.CreateTask(ctx, tc.p)
			wantError(t, err, tc.code, tc.field)
			if got := b.Balance(t, "ana"); got != apptest.Grant {
				t.Fatalf("balance %d after a refused create, want %d", got, apptest.Grant)
			}
		})
	}
}

func TestService_CancelTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.New(t)
	task, _, err := b.Service.CreateTask(ctx, textToVideo("ana", "", "a cat"))
	if err != nil {
		t.Fatal(err)
	}

	_, err = b.Service.CancelTask(ctx, "bob", task.ID)
	wantError(t, err, lepus.ENotFound, "")

	wake, stop := b.Service.Hub.Subscribe(task.ID)
	defer stop()
	got, err := b.Service.CancelTask(ctx, "ana", task.ID)
	if err != nil || got.Status != lepus.StatusCanceled {
		t.Fatalf("cancel: %v %v", got, err)
	}
	select {
	case <-wake:
	default:
		t.Fatal("a cancel did not wake the task's watchers")
	}
	if bal := b.Balance(t, "ana"); bal != apptest.Grant {
		t.Fatalf("balance %d after a cancel, want the refunded %d", bal, apptest.Grant)
	}

	_, err = b.Service.CancelTask(ctx, "ana", task.ID)
	wantError(t, err, lepus.EConflict, "")
	if bal := b.Balance(t, "ana"); bal != apptest.Grant {
		t.Fatalf("balance %d after a second cancel, want %d (one refund)", bal, apptest.Grant)
	}
}

func TestService_ListTasks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.New(t)
	for _, tc := range []struct {
		name  string
		p     lepus.TaskListParams
		field string
	}{
		{"ErrStatus", lepus.TaskListParams{UserID: "ana", Status: "done"}, "query.status"},
		{"ErrType", lepus.TaskListParams{UserID: "ana", Type: "nope"}, "query.type"},
	} {
		_, _, err := b.Service.ListTasks(ctx, &tc.p)
		t.Run(tc.name, func(t *testing.T) { wantError(t, err, lepus.EInvalid, tc.field) })
	}
}
