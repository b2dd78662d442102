package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/llm"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// llmProvider runs prompt-rewrite stages. It never fails a task: when the
// LLM is missing or fails, its answer says so and the workflow keeps the
// original prompt (workflows.md §8).
type llmProvider struct {
	client *llm.Client // nil when no LLM is configured
}

// NewLLMProvider returns the Provider for stages whose Provider is "llm";
// c may be nil.
func NewLLMProvider(c *llm.Client) Provider { return &llmProvider{client: c} }

var errNotTask = errors.New("llm: synchronous calls only")

func (p *llmProvider) Call(ctx context.Context, st *lepus.Stage) (json.RawMessage, error) {
	var req workflow.EnhanceRequest
	if err := json.Unmarshal(st.Request, &req); err != nil {
		return nil, fmt.Errorf("decode enhance request: %w", err)
	}
	ans := workflow.EnhanceAnswer{Prompt: req.Prompt}
	switch {
	case p.client == nil:
		ans.Fallback = "no LLM is configured"
	default:
		text, err := p.client.Complete(ctx, workflow.EnhanceSystemPrompt, req.Prompt)
		if err != nil {
			ans.Fallback = err.Error()
		} else {
			ans.Prompt = text
		}
	}
	return json.Marshal(ans)
}

func (p *llmProvider) Submit(context.Context, *lepus.Stage) (string, error) { return "", errNotTask }

func (p *llmProvider) Find(context.Context, *lepus.Stage) (string, bool, error) {
	return "", false, errNotTask
}

func (p *llmProvider) Poll(context.Context, *lepus.Stage) (*PollResult, error) {
	return nil, errNotTask
}

func (p *llmProvider) Classify(error) Outcome { return OutcomeRetry }
