package job

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// klingProvider adapts the Kling client to Provider.
type klingProvider struct {
	client *kling.Client
}

// NewKlingProvider returns the Provider for stages whose Provider is "kling".
func NewKlingProvider(c *kling.Client) Provider { return &klingProvider{client: c} }

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
		if p.Classify(err) == OutcomeNotFound {
			return "", false, nil
		}
		return "", false, err
	}
	return t.TaskID, true, nil
}

func (p *klingProvider) Poll(ctx context.Context, st *lepus.Stage) (*PollResult, error) {
	t, err := p.client.Get(ctx, st.Endpoint, st.ProviderTaskID)
	if err != nil {
		return nil, err
	}
	switch t.TaskStatus {
	case kling.StatusSucceed:
		res := &PollResult{State: PollSucceeded}
		for _, img := range t.TaskResult.Images {
			res.Results = append(res.Results, lepus.Result{Kind: lepus.AssetImage, URL: img.URL})
		}
		for _, v := range t.TaskResult.Videos {
			d, _ := strconv.ParseFloat(strings.TrimSpace(v.Duration), 64)
			res.Results = append(res.Results, lepus.Result{Kind: lepus.AssetVideo, URL: v.URL, ProviderID: v.ID, DurationS: d})
		}
		if len(res.Results) == 0 {
			return &PollResult{State: PollFailed, Message: "the provider reported success but returned no result"}, nil
		}
		return res, nil
	case kling.StatusFailed:
		return &PollResult{State: PollFailed, Message: cmp.Or(t.TaskStatusMsg, "no reason given")}, nil
	default:
		return &PollResult{State: PollRunning}, nil
	}
}

// List reads one page of Kling's task list for endpoint (batch polling).
func (p *klingProvider) List(ctx context.Context, endpoint string, page, size int) ([]ListedTask, error) {
	ts, err := p.client.List(ctx, endpoint, page, size)
	if err != nil {
		return nil, err
	}
	out := make([]ListedTask, len(ts))
	for i, t := range ts {
		out[i] = ListedTask{ID: t.TaskID, Ended: t.Done(), CreatedAt: time.UnixMilli(t.CreatedAt), UpdatedAt: time.UnixMilli(t.UpdatedAt)}
	}
	return out, nil
}

func (p *klingProvider) Classify(err error) Outcome {
	var apiErr *kling.APIError
	if errors.As(err, &apiErr) && apiErr.Code == 1201 && strings.Contains(apiErr.Message, "external_task_id") {
		return OutcomeDuplicate
	}
	switch kling.Classify(err) {
	case kling.ClassBusy:
		return OutcomeBusy
	case kling.ClassNotFound:
		return OutcomeNotFound
	case kling.ClassInvalid:
		return OutcomeReject
	case kling.ClassAccount:
		return OutcomeAccount
	case kling.ClassAuth:
		return OutcomeAuth
	default:
		return OutcomeRetry
	}
}
