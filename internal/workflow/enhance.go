package workflow

import (
	"encoding/json"
	"fmt"
	"strings"

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

// StageAngle is the stage that picks an avatar portrait for a prompt.
const StageAngle = "angle"

// ChooseRequest asks the LLM which avatar portrait fits a prompt.
type ChooseRequest struct {
	Task    string         `json:"task"` // "choose_angle"
	Prompt  string         `json:"prompt"`
	Options []AvatarOption `json:"options"`
}

// ChooseAnswer is the angle stage's output.
type ChooseAnswer struct {
	Key    string `json:"key"`
	By     string `json:"by"` // llm | rules
	Reason string `json:"reason"`
}

// AngleDescriptions tell the LLM what each portrait shows.
var AngleDescriptions = map[string]string{
	"front":              "the confirmed front-facing head-and-shoulders portrait",
	"three_quarter_left": "three-quarter view, turned slightly to the left",
	"profile_right":      "right profile, the side of the face",
	"slight_above":       "seen from slightly above, looking down",
}

// ChooseSystemPrompt asks for one option name.
const ChooseSystemPrompt = `You choose which reference portrait of a person best fits an image prompt.
Pick the portrait whose camera angle is closest to what the prompt describes.
Answer with the option name only.`

func angleStage() lepus.Stage {
	return lepus.Stage{Name: StageAngle, Phase: lepus.PhaseSubmit, Provider: ProviderLLM, Sync: true}
}

func angleRequest(prompt string, options []AvatarOption) ChooseRequest {
	return ChooseRequest{Task: "choose_angle", Prompt: prompt, Options: options}
}

// ChooseUserMessage lists the options for the LLM.
func ChooseUserMessage(r ChooseRequest) string {
	var b strings.Builder
	b.WriteString("Choose one of these portraits:\n")
	for _, o := range r.Options {
		fmt.Fprintf(&b, "- %s: %s\n", o.Key, AngleDescriptions[o.Key])
	}
	b.WriteString("\nPrompt: " + r.Prompt)
	return b.String()
}

// ChooseByRules picks a portrait from the prompt's words when no LLM
// answers: a side or profile view, a view from above, a turned view, else
// the front portrait.
func ChooseByRules(r ChooseRequest) ChooseAnswer {
	p := strings.ToLower(r.Prompt)
	has := map[string]bool{}
	for _, o := range r.Options {
		has[o.Key] = true
	}
	for _, rule := range []struct {
		key   string
		words []string
	}{
		{"profile_right", []string{"profile", "side view", "from the side", "side-on"}},
		{"slight_above", []string{"from above", "overhead", "high angle", "looking down", "bird"}},
		{"three_quarter_left", []string{"three-quarter", "three quarter", "3/4", "turned", "over the shoulder"}},
	} {
		for _, w := range rule.words {
			if has[rule.key] && strings.Contains(p, w) {
				return ChooseAnswer{Key: rule.key, By: "rules", Reason: fmt.Sprintf("the prompt says %q", w)}
			}
		}
	}
	return ChooseAnswer{Key: "front", By: "rules", Reason: "no angle words in the prompt: the front portrait"}
}

// chosenAngle returns the option the angle stage chose, noting why.
func chosenAngle(t *lepus.Task, options []AvatarOption) AvatarOption {
	var ans ChooseAnswer
	if st := t.StageByName(StageAngle); st != nil {
		_ = json.Unmarshal(st.Output, &ans)
	}
	for _, o := range options {
		if o.Key == ans.Key {
			t.AddNote(fmt.Sprintf("avatar portrait %s chosen by %s: %s", o.Key, ans.By, ans.Reason))
			return o
		}
	}
	t.AddNote("avatar portrait front used: no angle was chosen")
	return options[0]
}
