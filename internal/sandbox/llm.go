package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// The sandbox also fakes an OpenAI-compatible LLM (Doubao on Ark, Gemini's
// OpenAI endpoint: other-providers.md §3) at POST /llm/v1/chat/completions,
// so an OpenAI client with base URL {sandbox}/llm/v1 works. Its answers are
// a pure function of the conversation, so tests can predict them:
//
//   - a request to choose one option ("choose", "pick" or "select" in the
//     system or last user message, with the options listed as "- name",
//     "1. name" lines or after "options:" / "one of") is answered with the
//     first option listed;
//   - anything else is taken as a prompt to enhance: the answer is the
//     prompt (the text after a "Prompt:" label, else the whole last user
//     message) followed by promptSuffix.

// promptSuffix is what the fake LLM adds to a prompt it enhances.
const promptSuffix = ", highly detailed, natural light, sharp focus, 35mm photo"

// maxChatBody bounds a chat request.
const maxChatBody = 4 << 20

// FailLLM makes the next n LLM calls answer 500, so a caller's fallback
// (no enhancement, a default choice) can be tested.
func (s *Sandbox) FailLLM(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.llmFailures += n
}

type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	Stream   bool          `json:"stream"`
}

type chatMessage struct {
	Role string `json:"role"`
	// Content is a string or an array of parts ({"type":"text","text":…}).
	Content json.RawMessage `json:"content"`
}

// text returns the message's text, joining text parts.
func (m chatMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// handleChat serves POST /llm/v1/chat/completions.
func (s *Sandbox) handleChat(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.cfg.LLMKey {
		writeOpenAIError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
		return
	}
	s.mu.Lock()
	s.llmCalls++
	fail := s.llmFailures > 0
	if fail {
		s.llmFailures--
	}
	s.mu.Unlock()
	if fail {
		writeOpenAIError(w, http.StatusInternalServerError, "server_error", "", "The server had an error while processing your request.")
		return
	}
	var req chatRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxChatBody)).Decode(&req); err != nil {
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	switch {
	case req.Model == "":
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "you must provide a model parameter")
		return
	case len(req.Messages) == 0:
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "messages must be a non-empty array")
		return
	case req.Stream:
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "stream is not supported by the sandbox")
		return
	}
	answer := chatAnswer(req.Messages)
	s.mu.Lock()
	n := s.llmCalls
	s.mu.Unlock()
	promptTokens := 0
	for _, m := range req.Messages {
		promptTokens += len(strings.Fields(m.text()))
	}
	completionTokens := len(strings.Fields(answer))
	resp := map[string]any{
		"id":      fmt.Sprintf("chatcmpl-sandbox-%d", n),
		"object":  "chat.completion",
		"created": s.cfg.Now().Unix(),
		"model":   req.Model,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]string{"role": "assistant", "content": answer},
			"finish_reason": "stop",
		}},
		"usage": map[string]int{
			"prompt_tokens": promptTokens, "completion_tokens": completionTokens,
			"total_tokens": promptTokens + completionTokens,
		},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

var (
	choiceRequest = regexp.MustCompile(`(?i)\b(choose|pick|select)\b`)
	optionLine    = regexp.MustCompile(`(?m)^\s*(?:[-*•]|\d+[.)])\s*["'` + "`" + `]?([\p{L}\p{N}_-]+)`)
	optionList    = regexp.MustCompile(`(?i)\b(?:options|choices|one of)\b\s*(?:are|is)?\s*:?\s*([^\n.]+)`)
	optionSplit   = regexp.MustCompile(`\s*(?:,|\||/|\bor\b)\s*`)
	promptLabel   = regexp.MustCompile(`(?im)^\s*prompt\s*:\s*(.+)$`)
)

// chatAnswer is the deterministic answer to a conversation.
func chatAnswer(msgs []chatMessage) string {
	var system, user string
	for _, m := range msgs {
		switch m.Role {
		case "system", "developer":
			system += m.text() + "\n"
		case "user":
			user = m.text()
		}
	}
	if choiceRequest.MatchString(system + user) {
		if opt := firstOption(system + "\n" + user); opt != "" {
			return opt
		}
	}
	prompt := strings.TrimSpace(user)
	if m := promptLabel.FindStringSubmatch(user); m != nil {
		prompt = strings.TrimSpace(m[1])
	}
	return prompt + promptSuffix
}

// firstOption returns the first option listed in text, or "".
func firstOption(text string) string {
	if m := optionLine.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	if m := optionList.FindStringSubmatch(text); m != nil {
		for _, part := range optionSplit.Split(m[1], -1) {
			if opt := strings.Trim(part, " \t\"'`[]()"); opt != "" {
				return opt
			}
		}
	}
	return ""
}

// writeOpenAIError writes the OpenAI error shape clients parse.
func writeOpenAIError(w http.ResponseWriter, status int, typ, code, msg string) {
	var c any
	if code != "" {
		c = code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": c},
	})
}
