package httpapi

import (
	"encoding/json"
	"time"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/lepus"
)

// TaskView is a task as the API shows it.
type TaskView struct {
	ID       string           `json:"id" doc:"Unguessable task id."`
	Type     string           `json:"type" doc:"Workflow, e.g. face_swap."`
	Status   lepus.TaskStatus `json:"status" enum:"pending,processing,completed,failed,canceled"`
	Progress int              `json:"progress" minimum:"0" maximum:"100"`
	Step     string           `json:"step" doc:"The step the task is at, e.g. image.wait."`
	Error    *lepus.TaskError `json:"error" doc:"Why the task failed or was canceled; null otherwise."`
	Assets   []AssetView      `json:"assets"`
	// Effective is the exact provider request sent at each stage.
	Effective       map[string]any    `json:"effective" doc:"The exact provider request sent at each stage, by stage name."`
	ProviderTaskIDs map[string]string `json:"provider_task_ids" doc:"The provider's task id of each stage."`
	Input           map[string]any    `json:"input" doc:"The request as accepted, with defaults applied."`
	Stages          []StageView       `json:"stages" doc:"Each provider call of the task and how far it got."`
	Notes           []string          `json:"notes" doc:"Everything Lepus changed or decided about the request."`
	Cost            int               `json:"cost" doc:"Credits debited (refunded if the task fails or is canceled)."`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	StartedAt       *time.Time        `json:"started_at"`
	FinishedAt      *time.Time        `json:"finished_at"`
	URLs            TaskURLs          `json:"urls" doc:"Where to read, cancel and watch the task."`
	// Webhook fields: see webhook.go.
	Webhook             string                `json:"webhook,omitempty" doc:"Where the task's events are posted."`
	WebhookEventsFilter []string              `json:"webhook_events_filter,omitempty" doc:"The events posted."`
	WebhookDeliveries   []WebhookDeliveryView `json:"webhook_deliveries,omitempty" doc:"Every delivery attempt so far, oldest first."`
}

// TaskURLs are a task's links, absolute, on the same base as asset URLs:
// LEPUS_PUBLIC_URL, or else the address the server listens on. Never the
// request's Host header, which the client controls.
type TaskURLs struct {
	Get    string `json:"get" doc:"GET: the task."`
	Cancel string `json:"cancel" doc:"POST: cancel the task."`
	Events string `json:"events" doc:"GET: the task's event stream (SSE)."`
}

func taskURLs(base, id string) TaskURLs {
	get := base + "/tasks/" + id
	return TaskURLs{Get: get, Cancel: get + "/cancel", Events: get + "/events"}
}

// StageView is one provider call of a task.
type StageView struct {
	Name           string           `json:"name"`
	Phase          string           `json:"phase" enum:"submit,wait,collect,done,failed"`
	Provider       string           `json:"provider"`
	Model          string           `json:"model,omitempty"`
	ProviderTaskID string           `json:"provider_task_id,omitempty"`
	Polls          int              `json:"polls"`
	Error          *lepus.TaskError `json:"error" doc:"Why this part failed (the task may still complete with the other parts)."`
}

// AssetView is a stored result.
type AssetView struct {
	ID         string    `json:"id"`
	TaskID     string    `json:"task_id"`
	Kind       string    `json:"kind" enum:"image,video"`
	Mime       string    `json:"mime"`
	URL        string    `json:"url" doc:"Content URL; needs the owner's bearer token. For an asset that could not be stored, the provider's URL."`
	Stored     bool      `json:"stored" doc:"False when the download from the provider failed and only its URL is kept."`
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	DurationS  float64   `json:"duration_s" doc:"Video length in seconds; 0 for images."`
	Bytes      int64     `json:"bytes"`
	Stage      string    `json:"stage"`
	Primary    bool      `json:"primary"`
	Model      string    `json:"model,omitempty"`
	ProviderID string    `json:"provider_id,omitempty" doc:"The provider's id of the output (a Kling video id)."`
	CreatedAt  time.Time `json:"created_at"`
}

func taskView(svc *app.Service, t *lepus.Task) TaskView {
	v := TaskView{
		ID: t.ID, Type: t.Type, Status: t.Status, Progress: t.Progress, Step: t.Step, Error: t.Error,
		Assets: []AssetView{}, Effective: map[string]any{}, ProviderTaskIDs: map[string]string{},
		Notes: append([]string{}, t.Notes...), Cost: t.Cost,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, StartedAt: t.StartedAt, FinishedAt: t.FinishedAt,
		URLs: taskURLs(svc.PublicURL, t.ID),
	}
	_ = json.Unmarshal(t.Input, &v.Input)
	addWebhookView(&v, t)
	v.Stages = make([]StageView, 0, len(t.Stages))
	for _, st := range t.Stages {
		v.Stages = append(v.Stages, StageView{Name: st.Name, Phase: st.Phase, Provider: st.Provider, Model: st.Model,
			ProviderTaskID: st.ProviderTaskID, Polls: st.Polls, Error: st.Error})
		if len(st.Request) > 0 {
			var req any
			if json.Unmarshal(st.Request, &req) == nil {
				v.Effective[st.Name] = req
			}
		}
		if st.ProviderTaskID != "" {
			v.ProviderTaskIDs[st.Name] = st.ProviderTaskID
		}
	}
	for i := range t.Assets {
		v.Assets = append(v.Assets, assetView(svc, &t.Assets[i]))
	}
	return v
}

func assetView(svc *app.Service, a *lepus.Asset) AssetView {
	url := svc.AssetURL(a.ID)
	if a.StorageKey == "" {
		url = a.ProviderURL
	}
	return AssetView{
		ID: a.ID, TaskID: a.TaskID, Kind: a.Kind, Mime: a.Mime, URL: url, Stored: a.StorageKey != "",
		Width: a.Width, Height: a.Height, DurationS: a.DurationS, Bytes: a.Bytes, Stage: a.Stage,
		Primary: a.Primary, Model: a.Model, ProviderID: a.ProviderID, CreatedAt: a.CreatedAt,
	}
}
