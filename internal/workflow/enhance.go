package workflow

import (
	"encoding/json"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// EnhanceSystemPrompt instructs the LLM that rewrites a user's prompt.
const EnhanceSystemPrompt = `You rewrite prompts for an AI image and video generator.
Keep the user's subject, people, objects and intent exactly; do not add new subjects.
Add concrete visual detail: lighting, composition, camera and lens, materials, mood, style.
Write one paragraph of plain English, at most 120 words. Answer with the rewritten prompt only.`

// StageEnhance is the LLM prompt-rewrite stage's name.
const StageEnhance = "prompt"

// ProviderLLM names the OpenAI-compatible LLM on a stage.
const ProviderLLM = "llm"

// EnhanceRequest asks the LLM to rewrite a prompt.
type EnhanceRequest struct {
	Prompt  string `json:"prompt"`
	Purpose string `json:"purpose"` // "image" or "video"
}

// EnhanceAnswer is the LLM stage's output. Fallback, when set, says why the
// original prompt is used.
type EnhanceAnswer struct {
	Prompt   string `json:"prompt"`
	Fallback string `json:"fallback,omitempty"`
}

func enhanceStage() lepus.Stage {
	return lepus.Stage{Name: StageEnhance, Phase: lepus.PhaseSubmit, Provider: ProviderLLM, Sync: true}
}

// enhancedPrompt returns the rewritten prompt of the task's enhance stage,
// or original when there is none or it fell back (with a note saying why).
func enhancedPrompt(t *lepus.Task, original string) string {
	st := t.StageByName(StageEnhance)
	if st == nil {
		return original
	}
	var ans EnhanceAnswer
	if err := json.Unmarshal(st.Output, &ans); err != nil || ans.Prompt == "" {
		t.AddNote("prompt enhancement gave no answer; the original prompt was used")
		return original
	}
	if ans.Fallback != "" {
		t.AddNote("prompt enhancement failed (" + ans.Fallback + "); the original prompt was used")
		return original
	}
	if len([]rune(ans.Prompt)) > MaxPrompt {
		t.AddNote("the enhanced prompt was longer than 2500 characters; the original prompt was used")
		return original
	}
	t.AddNote("prompt enhanced by the LLM; the original is in input.prompt, the sent one in effective")
	return ans.Prompt
}
