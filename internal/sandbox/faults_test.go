package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

func asAPIError(err error, target **kling.APIError) bool { return errors.As(err, target) }

func TestSandbox_InjectedFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      sandbox.Fault
		wantClass  kling.Class
		wantCode   int
		wantStatus int
		wantSubmit int
	}{
		{"Server5000", sandbox.Fault{Code: 5000}, kling.ClassRetryable, 5000, 500, 0},
		{"Busy1303", sandbox.Fault{Code: 1303}, kling.ClassBusy, 1303, 429, 0},
		{"Invalid1201", sandbox.Fault{Code: 1201}, kling.ClassInvalid, 1201, 400, 0},
		{"Safety1301", sandbox.Fault{Code: 1301}, kling.ClassInvalid, 1301, 400, 0},
		{"Reset", sandbox.Fault{Reset: true}, kling.ClassRetryable, 0, 0, 0},
		{"AfterAccept", sandbox.Fault{AfterAccept: true}, kling.ClassRetryable, 0, 0, 1},
		{"DelayThenOK", sandbox.Fault{Delay: 20_000_000}, kling.ClassNone, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			b.sb.InjectCreate(tt.fault)
			ext := "f-" + tt.name
			_, err := b.client.Create(context.Background(), kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", ExternalTaskID: ext})
			if got := kling.Classify(err); got != tt.wantClass {
				t.Fatalf("err = %v: class %v, want %v", err, got, tt.wantClass)
			}
			var apiErr *kling.APIError
			if tt.wantCode != 0 && (!errors.As(err, &apiErr) || apiErr.Code != tt.wantCode || apiErr.HTTPStatus != tt.wantStatus) {
				t.Errorf("err = %v, want code %d status %d", err, tt.wantCode, tt.wantStatus)
			}
			if got := b.sb.Submissions(ext); got != tt.wantSubmit {
				t.Errorf("Submissions = %d, want %d", got, tt.wantSubmit)
			}
			if got := b.sb.Attempts(ext); got != 1 {
				t.Errorf("Attempts = %d, want 1", got)
			}
			// The fault is used up: the next create goes through (or, when
			// the first was accepted, is refused as a duplicate).
			_, err = b.client.Create(context.Background(), kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", ExternalTaskID: ext})
			if tt.wantSubmit == 0 && err != nil {
				t.Errorf("second create: %v", err)
			}
			if tt.wantSubmit == 1 && (!errors.As(err, &apiErr) || apiErr.Code != 1201 || !strings.Contains(apiErr.Message, "external_task_id already exists")) {
				t.Errorf("duplicate create: %v", err)
			}
			if got := b.sb.Submissions(ext); got != 1 {
				t.Errorf("Submissions after retry = %d, want 1", got)
			}
		})
	}
}

// TestSandbox_LostResponse is the reconcile path: the create response is
// lost, the task is found by external_task_id and finishes normally.
func TestSandbox_LostResponse(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sb.InjectCreate(sandbox.Fault{AfterAccept: true})
	_, err := b.client.Create(context.Background(), kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", ExternalTaskID: "lost-1"})
	if !kling.IsRetryable(err) {
		t.Fatalf("err = %v, want retryable transport error", err)
	}
	task := b.wait(t, kling.PathOmniImage, "lost-1")
	if task.TaskStatus != kling.StatusSucceed || task.TaskInfo.ExternalTaskID != "lost-1" {
		t.Errorf("task = %+v", task)
	}
}

func TestSandbox_Concurrency(t *testing.T) {
	t.Parallel()
	// Tasks run for an hour, so they end only when the test ends them
	// (FailTask): no step depends on how fast the machine is.
	b := setup(t, func(c *sandbox.Config) { c.Concurrency, c.ImageLatency, c.VideoLatency = 3, time.Hour, time.Hour })
	ctx := context.Background()
	if _, err := b.client.Create(ctx, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", N: 2, ExternalTaskID: "c-1"}); err != nil {
		t.Fatal(err)
	}
	// 2 slots held; an image task with n=2 needs 2 more.
	_, err := b.client.Create(ctx, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", N: 2, ExternalTaskID: "c-2"})
	var apiErr *kling.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 1303 || apiErr.HTTPStatus != 429 || apiErr.Message != "parallel task over resource pack limit" {
		t.Fatalf("over cap: %v", err)
	}
	if kling.Classify(err) != kling.ClassBusy {
		t.Errorf("class = %v", kling.Classify(err))
	}
	// A video task costs one slot and fits.
	if _, err := b.client.Create(ctx, kling.PathOmniVideo, kling.OmniVideoRequest{Prompt: "x", AspectRatio: "16:9", ExternalTaskID: "c-3"}); err != nil {
		t.Fatalf("video within cap: %v", err)
	}
	// Ending a task, whatever its outcome, frees its slots.
	b.sb.FailTask("c-1", "ended by the test")
	b.sb.FailTask("c-3", "ended by the test")
	b.wait(t, kling.PathOmniImage, "c-1")
	b.wait(t, kling.PathOmniVideo, "c-3")
	if _, err := b.client.Create(ctx, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", N: 2, ExternalTaskID: "c-2"}); err != nil {
		t.Fatalf("after slots freed: %v", err)
	}
	if b.sb.Submissions("c-2") != 1 || b.sb.Attempts("c-2") != 2 {
		t.Errorf("c-2 submissions %d attempts %d", b.sb.Submissions("c-2"), b.sb.Attempts("c-2"))
	}
	if st := b.sb.Stats(); st.Busy != 1 || st.SlotsInUse != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSandbox_RandomFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *sandbox.Config) { c.FailureRate = 1; c.FailureCodes = []int{5001} })
	for range 3 {
		_, err := b.client.Create(context.Background(), kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x"})
		var apiErr *kling.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 5001 || apiErr.HTTPStatus != 503 {
			t.Fatalf("err = %v, want 5001/503", err)
		}
	}
	r := setup(t, func(c *sandbox.Config) { c.ResetRate = 1 })
	_, err := r.client.Create(context.Background(), kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x"})
	if err == nil || !kling.IsRetryable(err) {
		t.Fatalf("reset rate 1: %v", err)
	}
	if st := r.sb.Stats(); st.Resets != 1 || st.Accepted != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSandbox_ResponseDelay(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *sandbox.Config) { c.ResponseDelay = 10_000_000 })
	ctx, cancel := context.WithTimeout(context.Background(), 1) // expires at once
	defer cancel()
	if _, err := b.client.Create(ctx, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x"}); !kling.IsRetryable(err) {
		t.Errorf("timed-out create: %v", err)
	}
	if _, err := b.client.Create(context.Background(), kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x"}); err != nil {
		t.Errorf("delayed create: %v", err)
	}
}
