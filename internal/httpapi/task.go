package httpapi

import (
	"context"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// TaskOutput is the response of every endpoint that returns one task.
type TaskOutput struct {
	Status   int
	Location string `header:"Location"`
	Replayed string `header:"Idempotent-Replayed"`
	// PreferenceApplied is "wait=N" when a create honoured Prefer: wait.
	PreferenceApplied string `header:"Preference-Applied"`
	Body              TaskView
}

type createInput[R any] struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Send the same key with the same body to get the same task back instead of a second one."`
	PreferHeader
	Body createBody[R]
}

// withReplayResponse adds the 200 of an idempotent replay to a create's
// responses: the same Idempotency-Key and body answer the task the first
// request made.
func withReplayResponse(api huma.API, responses map[string]*huma.Response) map[string]*huma.Response {
	if responses == nil {
		responses = map[string]*huma.Response{}
	}
	responses["200"] = &huma.Response{
		Description: "A replay: this Idempotency-Key and body already started a task; the body is that task as it is now.",
		Headers: map[string]*huma.Param{
			"Location":            {Schema: &huma.Schema{Type: "string"}, Description: "The task's URL path."},
			"Idempotent-Replayed": {Schema: &huma.Schema{Type: "string", Enum: []any{"true"}}, Description: "true: no new task was started."},
		},
		Content: map[string]*huma.MediaType{"application/json": {
			Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[TaskView](), true, "TaskView"),
		}},
	}
	return responses
}

type taskIDInput struct {
	ID string `path:"id" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"An id as Lepus returned it"`
}

type listInput struct {
	Status string `query:"status" enum:"pending,processing,completed,failed,canceled," doc:"Only tasks in this status."`
	Type   string `query:"type" maxLength:"64" doc:"Only tasks of this type."`
	Cursor string `query:"cursor" maxLength:"512" doc:"The next_cursor of the previous page."`
	Limit  int    `query:"limit" minimum:"0" maximum:"100" doc:"Page size (default 20)."`
}

type listOutput struct {
	Body struct {
		Tasks      []TaskView `json:"tasks"`
		NextCursor string     `json:"next_cursor" doc:"Pass as cursor for the next page; empty on the last page."`
	}
}

func registerTasks(api huma.API, h *handlers) {
	huma.Register(api, huma.Operation{
		OperationID: "get-task", Method: http.MethodGet, Path: "/tasks/{id}",
		Summary: "Get a task", Tags: []string{"Tasks"}, Security: secured, Errors: []int{401, 404},
		Description: "The task as it is now: status, progress, the current step, its assets once completed, " +
			"its error once failed, and what it cost. Only its owner can read it; to anyone else it is a 404.",
	}, func(ctx context.Context, in *taskIDInput) (*TaskOutput, error) {
		t, err := h.app.GetTask(ctx, userID(ctx), in.ID)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return &TaskOutput{Status: http.StatusOK, Body: taskView(h.app, t)}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-tasks", Method: http.MethodGet, Path: "/tasks",
		Summary: "List your tasks, newest first", Tags: []string{"Tasks"}, Security: secured, Errors: []int{401, 422},
		Description: "Your tasks, newest first, optionally only those of one status or type. " +
			"A page holds up to limit tasks; pass next_cursor as cursor to get the next page, until next_cursor is empty.",
	}, func(ctx context.Context, in *listInput) (*listOutput, error) {
		tasks, next, err := h.app.ListTasks(ctx, &lepus.TaskListParams{
			UserID: userID(ctx), Status: lepus.TaskStatus(in.Status), Type: in.Type, Cursor: in.Cursor, Limit: in.Limit,
		})
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		out := &listOutput{}
		out.Body.Tasks = make([]TaskView, 0, len(tasks))
		for _, t := range tasks {
			out.Body.Tasks = append(out.Body.Tasks, taskView(h.app, t))
		}
		out.Body.NextCursor = next
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "cancel-task", Method: http.MethodPost, Path: "/tasks/{id}/cancel",
		Summary: "Cancel a task that has not ended; its credits are refunded", Tags: []string{"Tasks"},
		Security: secured, Errors: []int{401, 404, 409},
		Description: "Stops a pending or processing task: work in progress at the provider is abandoned and the task's " +
			"credits are refunded once. Answers the canceled task; a task that has already ended is a 409.",
	}, func(ctx context.Context, in *taskIDInput) (*TaskOutput, error) {
		t, err := h.app.CancelTask(ctx, userID(ctx), in.ID)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return &TaskOutput{Status: http.StatusOK, Body: taskView(h.app, t)}, nil
	})
}
