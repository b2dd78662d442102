package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/sandbox"
)

// chatCompletion is the part of an OpenAI chat.completion the tests read.
type chatCompletion struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	} `json:"error"`
}

// chat posts body to the LLM endpoint with key and decodes the answer.
func (b *bundle) chat(t *testing.T, key, body string) (int, chatCompletion) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/llm/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out chatCompletion
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode, out
}

const llmKey = "sandbox-llm-key"

func TestSandbox_LLMAnswers(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		name, body, want string
	}{
		{"Enhance", `{"model":"doubao-seed","messages":[{"role":"system","content":"You rewrite image prompts. Answer with the prompt only."},{"role":"user","content":"a cat on a sofa"}],"thinking":{"type":"disabled"}}`,
			"a cat on a sofa, highly detailed, natural light, sharp focus, 35mm photo"},
		{"EnhanceLabelled", `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Improve this image prompt.\nPrompt: a red fox in snow"}]}`,
			"a red fox in snow, highly detailed, natural light, sharp focus, 35mm photo"},
		{"EnhanceLastUserMessage", `{"model":"m","messages":[{"role":"user","content":"old"},{"role":"assistant","content":"old, more"},{"role":"user","content":[{"type":"text","text":"new prompt"}]}]}`,
			"new prompt, highly detailed, natural light, sharp focus, 35mm photo"},
		{"ChooseBulleted", `{"model":"m","messages":[{"role":"system","content":"Choose the portrait angle that best fits the prompt. Options:\n- three_quarter_left: turned left\n- profile_right: right profile\n- slight_above: from above\nAnswer with the option name only."},{"role":"user","content":"a person looking right"}]}`,
			"three_quarter_left"},
		{"ChooseInline", `{"model":"m","messages":[{"role":"user","content":"Pick one of: front, profile_right, slight_above. Prompt: a hiker on a ridge"}]}`,
			"front"},
		{"ChooseNumbered", `{"model":"m","messages":[{"role":"system","content":"Select the best angle:\n1. slight_above\n2. front"},{"role":"user","content":"portrait"}]}`,
			"slight_above"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, out := b.chat(t, llmKey, tt.body)
			if status != 200 || len(out.Choices) != 1 {
				t.Fatalf("status %d, answer %+v", status, out)
			}
			c := out.Choices[0]
			if c.Message.Content != tt.want {
				t.Errorf("content = %q, want %q", c.Message.Content, tt.want)
			}
			if c.Index != 0 || c.Message.Role != "assistant" || c.FinishReason != "stop" {
				t.Errorf("choice = %+v", c)
			}
			if out.Object != "chat.completion" || out.ID == "" || out.Created == 0 || out.Model == "" {
				t.Errorf("envelope = %+v", out)
			}
			if out.Usage.CompletionTokens == 0 || out.Usage.TotalTokens != out.Usage.PromptTokens+out.Usage.CompletionTokens {
				t.Errorf("usage = %+v", out.Usage)
			}
		})
	}
	// The answer is a function of the request: asking again gives the same.
	_, a := b.chat(t, llmKey, tests[0].body)
	_, c := b.chat(t, llmKey, tests[0].body)
	if a.Choices[0].Message.Content != c.Choices[0].Message.Content {
		t.Error("answers differ for the same request")
	}
}

func TestSandbox_LLMErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *sandbox.Config) { c.LLMKey = "k-1" })
	ok := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	tests := []struct {
		name, key, body string
		wantStatus      int
		wantType        string
	}{
		{"NoKey", "", ok, 401, "invalid_request_error"},
		{"WrongKey", llmKey, ok, 401, "invalid_request_error"},
		{"NoModel", "k-1", `{"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error"},
		{"NoMessages", "k-1", `{"model":"m","messages":[]}`, 400, "invalid_request_error"},
		{"Stream", "k-1", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error"},
		{"NotJSON", "k-1", `{"model":`, 400, "invalid_request_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, out := b.chat(t, tt.key, tt.body)
			if status != tt.wantStatus || out.Error == nil || out.Error.Type != tt.wantType || out.Error.Message == "" || len(out.Choices) != 0 {
				t.Errorf("status %d, body %+v; want %d %s", status, out, tt.wantStatus, tt.wantType)
			}
		})
	}
	if status, _ := b.chat(t, "k-1", ok); status != 200 {
		t.Errorf("configured key: status %d", status)
	}
}

func TestSandbox_LLMFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *sandbox.Config) { c.LLMFailures = 1 })
	ok := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	b.sb.FailLLM(2)
	for i := range 3 {
		if status, out := b.chat(t, llmKey, ok); status != 500 || out.Error == nil || out.Error.Type != "server_error" {
			t.Errorf("call %d: status %d %+v, want 500", i, status, out)
		}
	}
	if status, out := b.chat(t, llmKey, ok); status != 200 || len(out.Choices) != 1 {
		t.Errorf("after the failures: status %d %+v", status, out)
	}
	// A call with a bad key does not use up an injected failure.
	b.sb.FailLLM(1)
	if status, _ := b.chat(t, "wrong", ok); status != 401 {
		t.Errorf("bad key: status %d", status)
	}
	if status, _ := b.chat(t, llmKey, ok); status != 500 {
		t.Errorf("injected failure: status %d", status)
	}
	if st := b.sb.Stats(); st.LLMCalls != 5 {
		t.Errorf("llm_calls = %d, want 5", st.LLMCalls)
	}
}
