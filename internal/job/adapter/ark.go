package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/ark"
)

// arkProvider runs Seedream (Volcengine Ark) stages: one streamed call that
// returns the images at once (no provider task to poll). Any failure is
// final for the stage, so the workflow's fallback (Kling) takes over
// rather than retrying Seedream.
type arkProvider struct {
	client *ark.Client // nil: Ark not configured
}

// NewArk returns the job.Provider for stages whose Provider is "ark"; c may be nil.
func NewArk(c *ark.Client) job.Provider { return &arkProvider{client: c} }

// ArkAnswer is the output of a Seedream stage.
type ArkAnswer struct {
	Asked     int      `json:"asked"`
	Generated int      `json:"generated"`
	Failures  []string `json:"failures,omitempty"`
}

var errArkMissing = errors.New("ark: Seedream is not configured (ARK_API_KEY)")

func (p *arkProvider) Call(ctx context.Context, st *lepus.Stage) (json.RawMessage, []lepus.Result, error) {
	if p.client == nil {
		return nil, nil, errArkMissing
	}
	var req ark.ImagesRequest
	if err := json.Unmarshal(st.Request, &req); err != nil {
		return nil, nil, fmt.Errorf("decode seedream request: %w", err)
	}
	im, err := p.client.Generate(ctx, &req)
	if err != nil && (im == nil || len(im.Succeeded()) == 0) {
		return nil, nil, err
	}
	ans := ArkAnswer{Generated: len(im.Succeeded())}
	if req.SequentialImageGenerationOptions != nil {
		ans.Asked = req.SequentialImageGenerationOptions.MaxImages
	}
	var results []lepus.Result
	for _, it := range im.Items {
		if it.Error != nil {
			ans.Failures = append(ans.Failures, fmt.Sprintf("image %d: %s %s", it.Index, it.Error.Code, it.Error.Message))
			continue
		}
		if it.URL != "" {
			results = append(results, lepus.Result{Kind: lepus.AssetImage, URL: it.URL})
		}
	}
	if len(results) == 0 {
		return nil, nil, fmt.Errorf("ark: no image came back (%s)", strings.Join(ans.Failures, "; "))
	}
	out, err := json.Marshal(ans)
	return out, results, err
}

func (p *arkProvider) Submit(context.Context, *lepus.Stage) (string, error) {
	return "", errors.New("ark: synchronous calls only")
}

func (p *arkProvider) Find(context.Context, *lepus.Stage) (string, bool, error) {
	return "", false, nil
}

func (p *arkProvider) Poll(context.Context, *lepus.Stage) (*job.PollResult, error) {
	return nil, errors.New("ark: synchronous calls only")
}

// Explain shows Ark's own answers as they are.
func (p *arkProvider) Explain(err error) (string, bool) {
	var apiErr *ark.APIError
	if errors.As(err, &apiErr) {
		return err.Error(), true
	}
	return "", false
}

// Classify makes every Seedream error final: the stage is optional and
// Kling is the fallback.
func (p *arkProvider) Classify(error) job.Outcome { return job.OutcomeReject }
