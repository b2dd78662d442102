package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/sse"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// StatusEvent is sent when a task's status changes, and first of all.
type StatusEvent struct {
	TaskID   string           `json:"task_id"`
	Status   lepus.TaskStatus `json:"status"`
	Progress int              `json:"progress"`
	Step     string           `json:"step"`
	Error    *lepus.TaskError `json:"error"`
}

// ProgressEvent is sent when a task's progress or step changes.
type ProgressEvent struct {
	TaskID   string `json:"task_id"`
	Progress int    `json:"progress"`
	Step     string `json:"step"`
}

// eventsKeepAlive is how long a stream may stay silent: past it the
// current progress is sent again, so proxies do not drop an idle stream.
const eventsKeepAlive = 15 * time.Second

func registerEvents(api huma.API, h *handlers) {
	sse.Register(api, huma.Operation{
		OperationID: "task-events", Method: http.MethodGet, Path: "/tasks/{id}/events",
		Summary: "Stream a task's status, progress and asset events until it ends (SSE)",
		Tags:    []string{"Tasks"}, Security: secured, Errors: []int{401, 404},
		Description: "Server-sent events about one task: a status event first, then status, progress and asset events " +
			"as they happen, until the task ends. Works whichever API process you reach; reconnect to resume. " +
			"An idle stream repeats the progress every 15 seconds so that proxies keep it open.",
	}, map[string]any{
		"status":   StatusEvent{},
		"progress": ProgressEvent{},
		"asset":    AssetView{},
	}, func(ctx context.Context, in *taskIDInput, send sse.Sender) {
		user := userID(ctx)
		// Subscribed before the first read, so a change committed in between
		// still wakes the stream.
		wake, stop := h.app.Hub.Subscribe(in.ID)
		defer stop()
		t, err := h.app.GetTask(ctx, user, in.ID)
		if err != nil {
			// Headers are already sent for SSE; an error event is the best we can do.
			_ = send(sse.Message{Data: StatusEvent{TaskID: in.ID, Status: "", Error: &lepus.TaskError{Code: "not_found", Message: "task not found"}}})
			return
		}
		// The hub wakes the stream on each change, whichever process made
		// it; the ticker is the safety net for a wake-up that never came.
		tick := time.NewTicker(h.app.Hub.RecheckInterval())
		defer tick.Stop()

		var last *lepus.Task
		seen := map[string]bool{}
		sentAt := time.Now()
		for {
			if last != nil && time.Since(sentAt) > eventsKeepAlive {
				last = nil // resend the status: a keep-alive that is also current
			}
			if last == nil || changed(last, t) {
				sentAt = time.Now()
			}
			if err := sendChanges(send, h, last, t, seen); err != nil {
				return
			}
			if t.Status.Terminal() {
				return
			}
			last = t
			select {
			case <-ctx.Done():
				return
			case <-h.closing:
				return
			case <-wake:
			case <-tick.C:
			}
			if t, err = h.app.GetTask(ctx, user, in.ID); err != nil {
				return
			}
		}
	})
}

// changed reports whether a client watching prev must hear about cur.
func changed(prev, cur *lepus.Task) bool {
	return prev.Status != cur.Status || prev.Progress != cur.Progress || prev.Step != cur.Step || len(prev.Assets) != len(cur.Assets)
}

// sendChanges sends the events that take a client from prev to cur.
func sendChanges(send sse.Sender, h *handlers, prev, cur *lepus.Task, seen map[string]bool) error {
	for i := range cur.Assets {
		a := &cur.Assets[i]
		if !seen[a.ID] {
			seen[a.ID] = true
			if err := send.Data(assetView(h.app, a)); err != nil {
				return err
			}
		}
	}
	if prev == nil || prev.Status != cur.Status {
		return send.Data(StatusEvent{TaskID: cur.ID, Status: cur.Status, Progress: cur.Progress, Step: cur.Step, Error: cur.Error})
	}
	if prev.Progress != cur.Progress || prev.Step != cur.Step {
		return send.Data(ProgressEvent{TaskID: cur.ID, Progress: cur.Progress, Step: cur.Step})
	}
	return nil
}
