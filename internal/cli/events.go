package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/lepus-ai/lepus/internal/sse"
)

// Event is one server-sent event of a task's stream: "status",
// "progress" or "asset", with its JSON data.
type Event struct {
	Name string
	Data json.RawMessage
}

// EventState is the data of a status or progress event.
type EventState struct {
	Status   string     `json:"status"`
	Progress int        `json:"progress"`
	Step     string     `json:"step"`
	Error    *TaskError `json:"error"`
}

// eventsIdle is how long a stream may stay silent before it is taken for
// dead and dropped (the server sends the current state at least every
// 15 s); the caller then looks at the task and reconnects.
const eventsIdle = time.Minute

// errStreamIdle ends a stream that stayed silent past eventsIdle.
var errStreamIdle = errors.New("event stream went silent")

// Events reads GET /tasks/{id}/events and calls fn for each event until
// the server ends the stream (the task ended, or the server is going
// away), the stream stays silent too long, ctx ends, or fn fails. The
// caller looks at the task afterwards to know which.
func (c *Client) Events(ctx context.Context, id string, fn func(Event) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(eventsIdle, func() { cancel(errStreamIdle) })
	defer idle.Stop()

	resp, err := c.do(ctx, request{
		method: http.MethodGet, path: "/tasks/" + url.PathEscape(id) + "/events", retry: true,
		header: http.Header{"Accept": {"text/event-stream"}},
	})
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errStreamIdle) {
			return cause
		}
		return err
	}
	defer resp.Body.Close()
	// Any bytes, a keep-alive comment too, show the stream is alive.
	alive := activityReader{r: resp.Body, fn: func() { idle.Reset(eventsIdle) }}
	err = sse.Read(alive, func(ev sse.Event) error {
		if err := fn(Event{Name: ev.Name, Data: json.RawMessage(ev.Data)}); err != nil {
			return &callbackError{err: err}
		}
		return nil
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil && ctx.Err() == nil {
		var fnErr *callbackError
		if errors.As(err, &fnErr) {
			return fnErr.err
		}
		return &networkError{err: err}
	}
	return ctx.Err()
}

// callbackError marks an error that came from the caller's fn.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }

// activityReader calls fn after every read that returned bytes.
type activityReader struct {
	r  io.Reader
	fn func()
}

func (a activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.fn()
	}
	return n, err
}
