package adapter

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// klingProvider adapts the Kling client to job.Provider; it also lists
// tasks for the batch poll (job.Lister).
type klingProvider struct {
	client *kling.Client
}

// NewKling returns the job.Provider for stages whose Provider is "kling".
func NewKling(c *kling.Client) job.Provider { return &klingProvider{client: c} }

func (p *klingProvider) Submit(ctx context.Context, st *lepus.Stage) (string, error) {
	t, err := p.client.Create(ctx, st.Endpoint, json.RawMessage(st.Request))
	if err != nil {
		return "", err
	}
	return t.TaskID, nil
}

func (p *klingProvider) Call(ctx context.Context, st *lepus.Stage) (json.RawMessage, []lepus.Result, error) {
	var out json.RawMessage
	if err := p.client.Call(ctx, st.Endpoint, json.RawMessage(st.Request), &out); err != nil {
		return nil, nil, err
	}
	return out, nil, nil
}

func (p *klingProvider) Find(ctx context.Context, st *lepus.Stage) (string, bool, error) {
	t, err := p.client.Get(ctx, st.Endpoint, st.ExternalID)
	if err != nil {
		if p.Classify(err) == job.OutcomeNotFound {
			return "", false, nil
		}
		return "", false, err
	}
	return t.TaskID, true, nil
}

func (p *klingProvider) Poll(ctx context.Context, st *lepus.Stage) (*job.PollResult, error) {
	t, err := p.client.Get(ctx, st.Endpoint, st.ProviderTaskID)
	if err != nil {
		return nil, err
	}
	switch t.TaskStatus {
	case kling.StatusSucceed:
		res := &job.PollResult{State: job.PollSucceeded}
		for _, img := range t.TaskResult.Images {
			res.Results = append(res.Results, lepus.Result{Kind: lepus.AssetImage, URL: img.URL})
		}
		for _, v := range t.TaskResult.Videos {
			d, _ := strconv.ParseFloat(strings.TrimSpace(v.Duration), 64)
			res.Results = append(res.Results, lepus.Result{Kind: lepus.AssetVideo, URL: v.URL, ProviderID: v.ID, DurationS: d})
		}
		if len(res.Results) == 0 {
			return &job.PollResult{State: job.PollFailed, Message: "the provider reported success but returned no result"}, nil
		}
		return res, nil
	case kling.StatusFailed:
		return &job.PollResult{State: job.PollFailed, Message: cmp.Or(t.TaskStatusMsg, "no reason given")}, nil
	default:
		return &job.PollResult{State: job.PollRunning}, nil
	}
}

// List reads one page of Kling's task list for endpoint (batch polling).
func (p *klingProvider) List(ctx context.Context, endpoint string, page, size int) ([]job.ListedTask, error) {
	ts, err := p.client.List(ctx, endpoint, page, size)
	if err != nil {
		return nil, err
	}
	out := make([]job.ListedTask, len(ts))
	for i, t := range ts {
		out[i] = job.ListedTask{ID: t.TaskID, Ended: t.Done(), CreatedAt: time.UnixMilli(t.CreatedAt), UpdatedAt: time.UnixMilli(t.UpdatedAt)}
	}
	return out, nil
}

// Explain shows Kling's own answers as they are, and a failure to reach
// Kling as such.
func (p *klingProvider) Explain(err error) (string, bool) {
	var apiErr *kling.APIError
	switch {
	case errors.As(err, &apiErr):
		return err.Error(), true
	case kling.Classify(err) == kling.ClassRetryable: // a transport error
		return "the provider could not be reached", true
	}
	return "", false
}

func (p *klingProvider) Classify(err error) job.Outcome {
	var apiErr *kling.APIError
	if errors.As(err, &apiErr) && apiErr.Code == 1201 && strings.Contains(apiErr.Message, "external_task_id") {
		return job.OutcomeDuplicate
	}
	switch kling.Classify(err) {
	case kling.ClassBusy:
		return job.OutcomeBusy
	case kling.ClassNotFound:
		return job.OutcomeNotFound
	case kling.ClassInvalid:
		return job.OutcomeReject
	case kling.ClassAccount:
		return job.OutcomeAccount
	case kling.ClassAuth:
		return job.OutcomeAuth
	default:
		return job.OutcomeRetry
	}
}
