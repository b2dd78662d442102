package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lepus-ai/lepus/internal/job"
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

// NewLLM returns the job.Provider for stages whose Provider is "llm";
// c may be nil.
func NewLLM(c *llm.Client) job.Provider { return &llmProvider{client: c} }

var errNotTask = errors.New("llm: synchronous calls only")

func (p *llmProvider) Call(ctx context.Context, st *lepus.Stage) (json.RawMessage, []lepus.Result, error) {
	out, err := p.answer(ctx, st)
	return out, nil, err
}

func (p *llmProvider) answer(ctx context.Context, st *lepus.Stage) (json.RawMessage, error) {
	var head struct {
		Task string `json:"task"`
	}
	_ = json.Unmarshal(st.Request, &head)
	if head.Task == "choose_angle" {
		return p.choose(ctx, st)
	}
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
			ans.Fallback = llmReason(err)
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

func (p *llmProvider) Poll(context.Context, *lepus.Stage) (*job.PollResult, error) {
	return nil, errNotTask
}

func (p *llmProvider) Classify(error) job.Outcome { return job.OutcomeRetry }

// choose asks the LLM which avatar portrait fits the prompt; without an
// LLM, or when it fails or answers no option, the rules decide.
func (p *llmProvider) choose(ctx context.Context, st *lepus.Stage) (json.RawMessage, error) {
	var req workflow.ChooseRequest
	if err := json.Unmarshal(st.Request, &req); err != nil {
		return nil, fmt.Errorf("decode choose request: %w", err)
	}
	ans := workflow.ChooseByRules(req)
	if p.client == nil {
		ans.Reason += " (no LLM is configured)"
		return json.Marshal(ans)
	}
	text, err := p.client.Complete(ctx, workflow.ChooseSystemPrompt, workflow.ChooseUserMessage(req))
	if err != nil {
		ans.Reason += " (the LLM failed: " + llmReason(err) + ")"
		return json.Marshal(ans)
	}
	// The option named first in the answer ("profile_right, not front").
	best, at := "", -1
	for _, o := range req.Options {
		if i := strings.Index(strings.ToLower(text), o.Key); i >= 0 && (at < 0 || i < at) {
			best, at = o.Key, i
		}
	}
	if best != "" {
		return json.Marshal(workflow.ChooseAnswer{Key: best, By: "llm", Reason: "the LLM answered " + strconv.Quote(trimTo(text, 80))})
	}
	ans.Reason += " (the LLM named no option)"
	return json.Marshal(ans)
}

func trimTo(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// llmReason says why the LLM failed without naming its address: its HTTP
// status when it answered, else that it could not be reached.
func llmReason(err error) string {
	if msg := err.Error(); strings.HasPrefix(msg, "llm: http ") {
		return msg
	}
	return "llm: could not be reached"
}
